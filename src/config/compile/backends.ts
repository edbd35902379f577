// Resolves a rule's backendRefs to clusters, with the Gateway API ResolvedRefs reasons for those that fail.
import type { ReferenceGrantSpec } from '../model/reference-grant.js';
import type { BackendTarget, ClusterConfig, WeightedBackends } from '../snapshot.js';
import type { Valid } from '../validate/validate.js';

export interface BackendRefInput {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly port?: number | undefined;
  readonly weight: number;
}

export interface RefFailure {
  readonly reason: 'BackendNotFound' | 'InvalidKind' | 'RefNotPermitted';
  readonly message: string;
}

export interface BackendIndex {
  /** Cluster of `namespace/name` + service port, undefined when the Service or port does not exist. */
  cluster(serviceKey: string, port: number): ClusterConfig | undefined;
  hasService(serviceKey: string): boolean;
  readonly grants: ReadonlyArray<Valid<ReferenceGrantSpec>>;
  readonly clusterDomain: string;
}

export type Resolved = { readonly ok: true; readonly cluster: ClusterConfig } | ({ readonly ok: false } & RefFailure);

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export function resolveBackendRef(
  ref: BackendRefInput,
  from: { readonly kind: string; readonly namespace: string; readonly requireGrant: boolean },
  index: BackendIndex,
): Resolved {
  if (!(ref.kind === 'Service' && (ref.group === '' || ref.group === 'core'))) {
    return { ok: false, reason: 'InvalidKind', message: `unsupported backendRef kind ${ref.group === '' ? 'core' : ref.group}/${ref.kind}: only Service is supported` };
  }
  const namespace = ref.namespace ?? from.namespace;
  const host = `${ref.name}.${namespace}.svc.${index.clusterDomain}`;
  // GEP-1294: mesh routes (Service parents) "can send traffic to backendRefs in any namespace ... without a
  // ReferenceGrant"; routes bound to a Gateway need one in the target namespace (GEP-709).
  if (from.requireGrant && namespace !== from.namespace && !granted(index.grants, from, namespace, ref.name)) {
    return { ok: false, reason: 'RefNotPermitted', message: `backendRef to Service ${namespace}/${ref.name} not permitted: add a ReferenceGrant in namespace ${namespace} allowing ${from.kind} from ${from.namespace}` };
  }
  if (!index.hasService(`${namespace}/${ref.name}`)) {
    return { ok: false, reason: 'BackendNotFound', message: `backend(${host}) not found` };
  }
  const cluster = index.cluster(`${namespace}/${ref.name}`, ref.port ?? 0);
  if (cluster === undefined) {
    return { ok: false, reason: 'BackendNotFound', message: `backend(${host}) has no port ${ref.port ?? '(unset)'}` };
  }
  return { ok: true, cluster };
}

function granted(
  grants: ReadonlyArray<Valid<ReferenceGrantSpec>>,
  from: { readonly kind: string; readonly namespace: string },
  namespace: string,
  name: string,
): boolean {
  for (const g of grants) {
    if (g.raw.metadata.namespace !== namespace) continue;
    const fromOk = g.spec.from.some((f) => f.group === GATEWAY_GROUP && f.kind === from.kind && f.namespace === from.namespace);
    const toOk = g.spec.to.some((t) => (t.group === '' || t.group === 'core') && t.kind === 'Service' && (t.name === undefined || t.name === name));
    if (fromOk && toOk) return true;
  }
  return false;
}

/** Weighted targets with running sums; zero-weight entries are dropped ("weight 0 = no traffic"). */
export function weightedBackends(targets: ReadonlyArray<BackendTarget>): WeightedBackends {
  const kept = targets.filter((t) => t.weight > 0);
  const cumulative: number[] = [];
  let total = 0;
  for (const t of kept) {
    total += t.weight;
    cumulative.push(total);
  }
  return Object.freeze({ targets: Object.freeze(kept), cumulative: Object.freeze(cumulative), total });
}
