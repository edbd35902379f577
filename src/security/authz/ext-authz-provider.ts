// CUSTOM action providers from MeshConfig `extensionProviders` (envoyExtAuthzHttp / envoyExtAuthzGrpc),
// resolved once per snapshot to the provider Service's endpoints and Envoy's ext_authz settings.
import { STATUS_CODES } from 'node:http';
import type { ClusterConfig, EndpointConfig } from '../../config/snapshot.js';
import type { ExtensionProvider, MeshConfig } from '../../config/model/mesh-config.js';
import { compileStringMatch, type StringMatcher } from './string-match.js';

interface ProviderBase {
  readonly name: string;
  readonly cluster: ClusterConfig;
  /** Envoy's `:authority` for the check: the cluster name with `|` replaced (as Istio sets it for gRPC). */
  readonly authority: string;
  readonly timeoutMs: number;
  readonly failOpen: boolean;
  /** `statusOnError` (Envoy `status_on_error`), default 403. */
  readonly statusOnError: number;
  /** `includeRequestBodyInCheck` is configured: not supported by this waypoint (see resolveProviders). */
  readonly wantsBody: boolean;
}

export interface HttpProvider extends ProviderBase {
  readonly kind: 'http';
  readonly pathPrefix: string;
  /** Headers sent besides the ones Envoy always sends (Host, Method, Path, Content-Length, Authorization). */
  readonly includeRequestHeaders: ReadonlyArray<StringMatcher>;
  readonly includeAdditionalHeaders: ReadonlyArray<readonly [string, string]>;
  readonly headersToUpstreamOnAllow: ReadonlyArray<StringMatcher>;
  /** undefined = every authorization response header except Host (Envoy's default). */
  readonly headersToDownstreamOnDeny: ReadonlyArray<StringMatcher> | undefined;
  readonly headersToDownstreamOnAllow: ReadonlyArray<StringMatcher>;
}

export interface GrpcProvider extends ProviderBase {
  readonly kind: 'grpc';
}

export type ExtAuthzProvider = HttpProvider | GrpcProvider;

export type ProviderResolution = { readonly ok: true; readonly provider: ExtAuthzProvider } | { readonly ok: false; readonly message: string };

export interface ClusterLookup {
  /** Cluster of the Service with this hostname and port. */
  byHostname(hostname: string, port: number): ClusterConfig | undefined;
  readonly clusterDomain: string;
}

const DEFAULT_TIMEOUT_MS = 600_000;

export function resolveProviders(mesh: MeshConfig, clusters: ClusterLookup): ReadonlyMap<string, ProviderResolution> {
  const out = new Map<string, ProviderResolution>();
  for (const p of mesh.extensionProviders) {
    if (out.has(p.name)) {
      out.set(p.name, { ok: false, message: `extension provider name must be unique, found duplicate: ${p.name}` });
      continue;
    }
    out.set(p.name, resolveOne(p, clusters));
  }
  return out;
}

function resolveOne(p: ExtensionProvider, clusters: ClusterLookup): ProviderResolution {
  const http = p.envoyExtAuthzHttp;
  const grpc = p.envoyExtAuthzGrpc;
  const cfg = http ?? grpc;
  if (cfg === undefined) return { ok: false, message: `extension provider ${p.name} is not an ext_authz provider (envoyExtAuthzHttp or envoyExtAuthzGrpc)` };
  const host = serviceHost(cfg.service, clusters.clusterDomain);
  const cluster = clusters.byHostname(host, cfg.port);
  if (cluster === undefined) return { ok: false, message: `failed to parse extension provider ${p.name}: could not find valid hostname for service ${cfg.service} port ${cfg.port}` };
  const status = cfg.statusOnError;
  let statusOnError = 403;
  if (status !== undefined && status !== '') {
    const code = Number(status);
    if (!/^[0-9]+$/.test(status) || STATUS_CODES[code] === undefined) return { ok: false, message: `failed to parse extension provider ${p.name}: unsupported statusOnError ${status}` };
    statusOnError = code;
  }
  const timeoutMs = cfg.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDurationMs(cfg.timeout);
  if (timeoutMs === undefined) return { ok: false, message: `failed to parse extension provider ${p.name}: invalid timeout "${cfg.timeout ?? ''}" (use a duration such as "0.5s" or "2s")` };
  const base = {
    name: p.name,
    cluster,
    authority: `outbound_.${cfg.port}_._.${host}`,
    timeoutMs,
    failOpen: cfg.failOpen ?? false,
    statusOnError,
    wantsBody: cfg.includeRequestBodyInCheck !== undefined,
  };
  if (http !== undefined) {
    const prefix = http.pathPrefix ?? '';
    if (prefix !== '' && !prefix.startsWith('/')) return { ok: false, message: `failed to parse extension provider ${p.name}: pathPrefix must begin with \`/\`, found: "${prefix}"` };
    const matchers = (list: ReadonlyArray<string> | undefined): StringMatcher[] => (list ?? []).map((h) => compileStringMatch(h, true));
    return {
      ok: true,
      provider: Object.freeze({
        ...base,
        kind: 'http',
        pathPrefix: prefix,
        includeRequestHeaders: matchers(http.includeRequestHeadersInCheck),
        includeAdditionalHeaders: Object.entries(http.includeAdditionalHeadersInCheck ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const),
        headersToUpstreamOnAllow: matchers(http.headersToUpstreamOnAllow),
        headersToDownstreamOnDeny: http.headersToDownstreamOnDeny === undefined ? undefined : matchers(http.headersToDownstreamOnDeny),
        headersToDownstreamOnAllow: matchers(http.headersToDownstreamOnAllow),
      }),
    };
  }
  return { ok: true, provider: Object.freeze({ ...base, kind: 'grpc' }) };
}

/** `[<Namespace>/]<Hostname>`; a short `ns/name` is taken as the Service `name.ns.svc.<domain>`. */
function serviceHost(service: string, clusterDomain: string): string {
  const slash = service.indexOf('/');
  if (slash < 0) return service.toLowerCase();
  const ns = service.slice(0, slash);
  const host = service.slice(slash + 1).toLowerCase();
  return host.includes('.') ? host : `${host}.${ns}.svc.${clusterDomain}`;
}

/** Protobuf duration (`0.5s`, `2s`) and the Go forms people also write (`500ms`, `1m`). */
export function parseDurationMs(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(text.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * unit);
}

/** A random ready endpoint of the provider's Service (Envoy load-balances the ext_authz cluster). */
export function pickProviderEndpoint(p: ExtAuthzProvider): EndpointConfig | undefined {
  const eps = p.cluster.endpoints;
  if (eps.length === 0) return undefined;
  return eps[Math.floor(Math.random() * eps.length)];
}
