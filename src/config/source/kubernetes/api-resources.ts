// Where each kind lives in the Kubernetes API (group, versions, plural, scope), and which kinds the
// Kubernetes source watches: every kind validation knows (validate/kinds.ts) that has a row here.
import { ENVOY_FILTER_KIND } from '../../model/envoy-filter.js';
import { APPLIED_KINDS, isAppliedKind, NOT_YET_APPLIED_KINDS } from '../../validate/kinds.js';

export interface ApiResource {
  readonly kind: string;
  /** API group; '' is the core group (`/api/v1`). */
  readonly group: string;
  /** Versions to try, newest first; a 404 moves on to the next (older clusters, older CRDs). */
  readonly versions: ReadonlyArray<string>;
  readonly plural: string;
  readonly namespaced: boolean;
  /**
   * `always`: user configuration, watched even before the kind is applied (so it is reported).
   * `when-applied`: cluster data that is large or sensitive (Pods, Secrets) is only read once
   * validation applies the kind, so the ClusterRole grants nothing that is not used.
   */
  readonly watch: 'always' | 'when-applied';
  /** `status` is written by controllers (us among them): a status-only change does not recompile. */
  readonly statusIsOutput: boolean;
}

const GW = 'gateway.networking.k8s.io';

function row(kind: string, group: string, versions: string[], plural: string, namespaced: boolean, watch: ApiResource['watch'], statusIsOutput: boolean): ApiResource {
  return Object.freeze({ kind, group, versions: Object.freeze(versions), plural, namespaced, watch, statusIsOutput });
}

/** One line per kind: adding a kind to validate/kinds.ts and a row here is all it takes to watch it. */
export const API_RESOURCES: ReadonlyMap<string, ApiResource> = new Map([
  row('Namespace', '', ['v1'], 'namespaces', false, 'always', true),
  row('Service', '', ['v1'], 'services', true, 'always', true),
  row('EndpointSlice', 'discovery.k8s.io', ['v1'], 'endpointslices', true, 'always', false),
  row('Pod', '', ['v1'], 'pods', true, 'when-applied', false),
  row('Secret', '', ['v1'], 'secrets', true, 'when-applied', false),
  row('GatewayClass', GW, ['v1', 'v1beta1'], 'gatewayclasses', false, 'always', true),
  row('Gateway', GW, ['v1', 'v1beta1'], 'gateways', true, 'always', true),
  row('HTTPRoute', GW, ['v1', 'v1beta1'], 'httproutes', true, 'always', true),
  row('GRPCRoute', GW, ['v1', 'v1alpha2'], 'grpcroutes', true, 'always', true),
  row('TLSRoute', GW, ['v1', 'v1alpha3', 'v1alpha2'], 'tlsroutes', true, 'always', true),
  row('TCPRoute', GW, ['v1alpha2'], 'tcproutes', true, 'always', true),
  row('ReferenceGrant', GW, ['v1', 'v1beta1'], 'referencegrants', true, 'always', true),
  row('AuthorizationPolicy', 'security.istio.io', ['v1', 'v1beta1'], 'authorizationpolicies', true, 'always', true),
  row('RequestAuthentication', 'security.istio.io', ['v1', 'v1beta1'], 'requestauthentications', true, 'always', true),
  row('Telemetry', 'telemetry.istio.io', ['v1', 'v1alpha1'], 'telemetries', true, 'always', true),
  row('WasmPlugin', 'extensions.istio.io', ['v1alpha1'], 'wasmplugins', true, 'always', true),
  row('DestinationRule', 'networking.istio.io', ['v1', 'v1beta1', 'v1alpha3'], 'destinationrules', true, 'always', true),
  row('VirtualService', 'networking.istio.io', ['v1', 'v1beta1', 'v1alpha3'], 'virtualservices', true, 'always', true),
  row('ServiceEntry', 'networking.istio.io', ['v1', 'v1beta1', 'v1alpha3'], 'serviceentries', true, 'always', true),
  row('EnvoyFilter', 'networking.istio.io', ['v1alpha3'], 'envoyfilters', true, 'always', true),
].map((r) => [r.kind, r]));

/** `group/version`, or just `version` for the core group, as in `apiVersion`. */
export function groupVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** The versions of a kind worth trying: for applied kinds only those validation accepts. */
export function candidateVersions(resource: ApiResource): ReadonlyArray<string> {
  if (!isAppliedKind(resource.kind)) return resource.versions;
  const accepted = APPLIED_KINDS[resource.kind];
  return resource.versions.filter((v) => accepted.includes(groupVersion(resource.group, v)));
}

/** Kinds validation knows: applied, recognised but not applied yet, or reported as unsupported (EnvoyFilter). */
function knownToValidation(kind: string): boolean {
  return isAppliedKind(kind) || NOT_YET_APPLIED_KINDS.has(kind) || kind === ENVOY_FILTER_KIND;
}

/** The kinds the Kubernetes source lists and watches, in a stable order. */
export function watchedResources(): ReadonlyArray<ApiResource> {
  const out: ApiResource[] = [];
  for (const r of API_RESOURCES.values()) {
    const applied = isAppliedKind(r.kind);
    if (!knownToValidation(r.kind)) continue;
    if (r.watch === 'when-applied' && !applied) continue;
    if (candidateVersions(r).length === 0) continue;
    out.push(r);
  }
  return out;
}

/** Applied kinds that have no row here: they could not be watched (a unit test keeps this empty). */
export function unmappedAppliedKinds(): ReadonlyArray<string> {
  return Object.keys(APPLIED_KINDS).filter((k) => !API_RESOURCES.has(k));
}

/** The REST path of a collection or object: `/apis/g/v/namespaces/ns/plural/name/status`. */
export function resourcePath(r: ApiResource, version: string, at: { readonly namespace?: string; readonly name?: string; readonly subresource?: string } = {}): string {
  let path = r.group === '' ? `/api/${version}` : `/apis/${r.group}/${version}`;
  if (r.namespaced && at.namespace !== undefined) path += `/namespaces/${encodeURIComponent(at.namespace)}`;
  path += `/${r.plural}`;
  if (at.name !== undefined) path += `/${encodeURIComponent(at.name)}`;
  if (at.subresource !== undefined) path += `/${at.subresource}`;
  return path;
}
