// DestinationRule → per-Service-port traffic policy. On a waypoint a DR applies to the destination Service's
// inbound-vip clusters (istio-facts 6.1); `portLevelSettings` override the top-level fields for their port.
// Applied: loadBalancer, connectionPool (destination-rules-pool.ts), outlierDetection, tls (destination-rules-tls.ts).
// A rule whose TLS files cannot be used is rejected whole (returned in `rejected`), so the pipeline keeps its
// previous version; everything not applied is reported and ignored.
import { createHash } from 'node:crypto';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { DestinationRuleSpec, LoadBalancerSpec, OutlierDetectionSpec, TrafficPolicySpec } from '../model/destination-rule.js';
import { durationMs, type OutlierPolicy } from '../../upstream/outlier/outlier-detector.js';
import type { FieldPath, RawResource } from '../resource.js';
import type { Valid, ValidResources } from '../validate/validate.js';
import type { EndpointConfig } from '../snapshot.js';
import { type HashKeySource, LEAST_REQUEST, type LbPolicy } from '../../upstream/lb/lb-policy.js';
import { buildMaglev, DEFAULT_MAGLEV_TABLE_SIZE } from '../../upstream/lb/maglev.js';
import { buildRing, DEFAULT_MIN_RING_SIZE } from '../../upstream/lb/ring-hash.js';
import type { SlowStart } from '../../upstream/lb/slow-start.js';
import type { TlsFiles } from '../../upstream/tls/tls-files.js';
import type { PoolSettings, UpstreamSettings } from '../../upstream/upstream-settings.js';
import { compilePool } from './destination-rules-pool.js';
import { portProtocol } from './protocol.js';
import type { ServiceSpec } from '../model/core.js';
import { type CompiledTls, compileTls } from './destination-rules-tls.js';

/** The settings that apply to one Service port, and the DR they come from. */
export interface PortPolicy {
  readonly rule: string;
  readonly lb: LoadBalancerSpec | undefined;
  /** connectionPool.http.http2MaxRequests (Istio: applies to HTTP/1.1 too). */
  readonly maxRequests: number | undefined;
  readonly outlier: OutlierPolicy | undefined;
  /** connectionPool and tls: how endpoints are connected to; undefined when the rule sets neither. */
  readonly upstream: UpstreamSettings | undefined;
}

/** Looks up the policy of a Service port; undefined when no DR applies to it. */
export type DestinationRulePolicies = (serviceKey: string, port: number) => PortPolicy | undefined;

export const NO_DESTINATION_RULES: DestinationRulePolicies = () => undefined;

/** What the DR compile step needs beyond the resources. */
export interface DestinationRuleInputs {
  /** Contents of the TLS files the rules name (read by the pipeline); undefined: none were read. */
  readonly tlsFiles?: TlsFiles | undefined;
  /** Rules rejected here (unusable TLS files) are appended, so the pipeline can keep their previous version. */
  readonly rejected?: RawResource[];
}

/** Fields of a trafficPolicy this waypoint does not apply yet; each gets a warning when set. */
const NOT_APPLIED: ReadonlyArray<Exclude<keyof TrafficPolicySpec, 'portLevelSettings' | 'loadBalancer' | 'tls' | 'connectionPool' | 'outlierDetection'>> = ['proxyProtocol', 'tunnel', 'retryBudget'];

/** One trafficPolicy block (top level or one port) with its pool and TLS compiled. */
interface CompiledBlock {
  readonly pool: PoolSettings | undefined;
  readonly tls: CompiledTls | undefined;
}

interface CompiledRule {
  readonly dr: Valid<DestinationRuleSpec>;
  readonly top: CompiledBlock;
  readonly ports: ReadonlyMap<number, CompiledBlock>;
}

export function destinationRulePolicies(resources: ValidResources, clusterDomain: string, diagnostics: Diagnostic[], inputs: DestinationRuleInputs = {}): DestinationRulePolicies {
  const byService = new Map<string, { readonly rule: CompiledRule; readonly hostname: string; readonly svc: Valid<ServiceSpec> }>();
  const rules = [...resources.destinationRules].sort((a, b) => a.created - b.created || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const dr of rules) {
    reportIgnored(dr, diagnostics);
    const compiled = compileRule(dr, inputs.tlsFiles, diagnostics);
    if (compiled === undefined) {
      inputs.rejected?.push(dr.raw);
      continue;
    }
    const host = resolveHost(dr.spec.host, dr.raw.metadata.namespace, clusterDomain);
    const matched = [...resources.services.values()].filter((s) => hostMatches(host, `${s.raw.metadata.name}.${s.raw.metadata.namespace}.svc.${clusterDomain}`));
    if (matched.length === 0) {
      diagnostics.push(resourceDiagnostic(dr.raw, 'warning', 'destination-rule-host-not-found', ['spec', 'host'],
        `host "${dr.spec.host}" (${host}) matches no Service; the rule has no effect (hosts are Service names, short names resolve in the rule's namespace)`));
      continue;
    }
    for (const svc of matched) {
      const taken = byService.get(svc.key)?.rule.dr;
      // Istio: an exact host beats a wildcard; otherwise the oldest rule wins (Istio merges only non-conflicting DRs).
      if (taken !== undefined && !(host.startsWith('*') === false && taken.spec.host.startsWith('*'))) {
        diagnostics.push(resourceDiagnostic(dr.raw, 'warning', 'destination-rule-conflict', ['spec', 'host'],
          `Service ${svc.key} already has DestinationRule ${taken.key}; this rule does not apply to it (merge the two rules)`));
        continue;
      }
      byService.set(svc.key, { rule: compiled, hostname: `${svc.raw.metadata.name}.${svc.raw.metadata.namespace}.svc.${clusterDomain}`, svc });
    }
  }
  return (serviceKey, port) => {
    const entry = byService.get(serviceKey);
    const dr = entry?.rule.dr;
    const tp = dr?.spec.trafficPolicy;
    if (entry === undefined || dr === undefined || tp === undefined) return undefined;
    const portLevel = tp.portLevelSettings?.find((p) => p.port.number === port);
    const pool = portLevel?.connectionPool ?? tp.connectionPool;
    const od = portLevel?.outlierDetection ?? tp.outlierDetection;
    const block = entry.rule.ports.get(port);
    const upstream = upstreamSettings(block?.pool ?? entry.rule.top.pool, block?.tls ?? entry.rule.top.tls, entry.hostname);
    if (upstream?.tls !== undefined) reportL4Tls(dr, entry.svc, port, portLevel?.tls === undefined ? undefined : tp.portLevelSettings?.indexOf(portLevel), diagnostics);
    return { rule: dr.key, lb: portLevel?.loadBalancer ?? tp.loadBalancer, maxRequests: pool?.http?.http2MaxRequests, outlier: od === undefined ? undefined : compileOutlier(od), upstream };
  };
}

/** TLS origination applies to HTTP traffic; TCP/TLS ports (and non-HTTP traffic on undeclared ones) go out as they came. */
function reportL4Tls(dr: Valid<DestinationRuleSpec>, svc: Valid<ServiceSpec>, port: number, portIndex: number | undefined, out: Diagnostic[]): void {
  const p = svc.spec.ports.find((x) => x.port === port);
  const protocol = p === undefined ? 'http' : portProtocol(p.appProtocol, p.name);
  if (protocol !== 'tcp' && protocol !== 'tls' && protocol !== 'unknown') return;
  const at: FieldPath = portIndex === undefined ? ['spec', 'trafficPolicy', 'tls'] : ['spec', 'trafficPolicy', 'portLevelSettings', portIndex, 'tls'];
  out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', at, protocol === 'unknown'
    ? `Service ${svc.key} port ${port} is undeclared: TLS is originated for its HTTP traffic only; other TCP traffic goes out without it`
    : `Service ${svc.key} port ${port} is ${protocol.toUpperCase()} (L4): TLS origination is not applied to TCP proxying; connections go out as they came`));
}

/** Pool and TLS of every block of a rule; undefined when its TLS cannot be used (the rule is rejected). */
function compileRule(dr: Valid<DestinationRuleSpec>, files: TlsFiles | undefined, out: Diagnostic[]): CompiledRule | undefined {
  const tp = dr.spec.trafficPolicy;
  const at: FieldPath = ['spec', 'trafficPolicy'];
  const block = (b: Omit<TrafficPolicySpec, 'portLevelSettings'> | undefined, path: FieldPath): CompiledBlock => ({
    pool: b?.connectionPool === undefined ? undefined : compilePool(dr, b.connectionPool, [...path, 'connectionPool'], out),
    tls: b?.tls === undefined ? undefined : compileTls(dr, b.tls, [...path, 'tls'], files, out),
  });
  const top = block(tp, at);
  const ports = new Map<number, CompiledBlock>();
  tp?.portLevelSettings?.forEach((p, i) => ports.set(p.port.number, block(p, [...at, 'portLevelSettings', i])));
  if (top.tls?.kind === 'rejected' || [...ports.values()].some((b) => b.tls?.kind === 'rejected')) return undefined;
  return { dr, top, ports };
}

function upstreamSettings(pool: PoolSettings | undefined, tls: CompiledTls | undefined, hostname: string): UpstreamSettings | undefined {
  const origination = tls?.kind === 'originate' ? Object.freeze({ ...tls.tls, sni: tls.sni ?? hostname }) : undefined;
  const hasPool = pool !== undefined && Object.keys(pool).length > 0;
  if (!hasPool && origination === undefined) return undefined;
  const poolSettings = pool ?? Object.freeze({});
  const id = createHash('sha256').update(JSON.stringify({ pool: poolSettings, tls: origination ?? null })).digest('hex').slice(0, 16);
  return Object.freeze({ id, pool: poolSettings, ...(origination === undefined ? {} : { tls: origination }) });
}

/** Istio's defaults: consecutive5xxErrors 5, gateway errors off, interval 10s, baseEjectionTime 30s, maxEjectionPercent 10. */
export function compileOutlier(od: OutlierDetectionSpec): OutlierPolicy {
  return Object.freeze({
    consecutive5xx: od.consecutive5xxErrors ?? 5,
    consecutiveGateway: od.consecutiveGatewayErrors ?? 0,
    intervalMs: durationMs(od.interval ?? '10s'),
    baseEjectionMs: durationMs(od.baseEjectionTime ?? '30s'),
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
    minHealthPercent: od.minHealthPercent ?? 0,
  });
}

/** Compiles a loadBalancer over the cluster's endpoints (hash tables are built here, once per snapshot). */
export function compileLb(spec: LoadBalancerSpec, endpoints: ReadonlyArray<EndpointConfig>): LbPolicy {
  const ch = spec.consistentHash;
  if (ch !== undefined) {
    const keys = endpoints.map((e) => e.key);
    const table = ch.maglev !== undefined
      ? buildMaglev(keys, ch.maglev.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE)
      : buildRing(keys, ch.ringHash?.minimumRingSize ?? ch.minimumRingSize ?? DEFAULT_MIN_RING_SIZE);
    return Object.freeze({ kind: 'hash', key: hashKeySource(ch), table });
  }
  const warmup = slowStart(spec);
  switch (spec.simple) {
    case 'ROUND_ROBIN':
      return Object.freeze(warmup === undefined ? { kind: 'round-robin' } : { kind: 'round-robin', warmup });
    case 'RANDOM':
      return Object.freeze({ kind: 'random' });
    default:
      // UNSPECIFIED and LEAST_CONN are LEAST_REQUEST in Istio; PASSTHROUGH is reported and falls back to it.
      return warmup === undefined ? LEAST_REQUEST : Object.freeze({ kind: 'least-request', warmup });
  }
}

/** `warmup` (it supersedes warmupDurationSecs) or `warmupDurationSecs`; Envoy's defaults 10% and aggression 1. */
function slowStart(spec: LoadBalancerSpec): SlowStart | undefined {
  if (spec.warmup !== undefined) {
    const windowMs = durationMs(spec.warmup.duration);
    return windowMs === 0 ? undefined : Object.freeze({ windowMs, minWeight: (spec.warmup.minimumPercent ?? 10) / 100, aggression: spec.warmup.aggression ?? 1 });
  }
  if (spec.warmupDurationSecs === undefined) return undefined;
  const windowMs = durationMs(spec.warmupDurationSecs);
  return windowMs === 0 ? undefined : Object.freeze({ windowMs, minWeight: 0.1, aggression: 1 });
}

function hashKeySource(ch: NonNullable<LoadBalancerSpec['consistentHash']>): HashKeySource {
  if (ch.httpHeaderName !== undefined) return { from: 'header', name: ch.httpHeaderName.toLowerCase() };
  const cookie = ch.httpCookie;
  if (cookie !== undefined) {
    if (cookie.ttl === undefined) return { from: 'cookie', name: cookie.name };
    const attributes = (cookie.attributes ?? []).map((a) => ({ name: String(a['name'] ?? ''), value: a['value'] === undefined ? undefined : String(a['value']) })).filter((a) => a.name !== '');
    return { from: 'cookie', name: cookie.name, generate: { ttlSeconds: Math.floor(durationMs(cookie.ttl) / 1000), path: cookie.path, attributes } };
  }
  if (ch.httpQueryParameterName !== undefined) return { from: 'query', name: ch.httpQueryParameterName };
  return { from: 'source-ip' };
}

/** Istio's host resolution: a name without dots is short for `<name>.<rule namespace>.svc.<domain>`. */
export function resolveHost(host: string, namespace: string, clusterDomain: string): string {
  const h = host.toLowerCase();
  return h.includes('.') || h === '*' ? h : `${h}.${namespace}.svc.${clusterDomain}`;
}

export function hostMatches(pattern: string, hostname: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1));
  return pattern === hostname;
}

function reportIgnored(dr: Valid<DestinationRuleSpec>, out: Diagnostic[]): void {
  if (dr.spec.subsets !== undefined && dr.spec.subsets.length > 0) {
    out.push(resourceDiagnostic(dr.raw, 'warning', 'subsets-unsupported', ['spec', 'subsets'],
      'subsets are not supported on waypoints (Gateway API backendRefs cannot name a subset) and are ignored: create one Service per version and split traffic with HTTPRoute backendRef weights'));
  }
  const tp = dr.spec.trafficPolicy;
  if (tp === undefined) return;
  reportPolicy(dr, tp, ['spec', 'trafficPolicy'], out);
  tp.portLevelSettings?.forEach((p, i) => reportPolicy(dr, p, ['spec', 'trafficPolicy', 'portLevelSettings', i], out));
}

function reportPolicy(dr: Valid<DestinationRuleSpec>, tp: Omit<TrafficPolicySpec, 'portLevelSettings'>, at: FieldPath, out: Diagnostic[]): void {
  for (const field of NOT_APPLIED) {
    if (tp[field] === undefined) continue;
    out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, field], `${field} is not yet applied by this waypoint and is ignored`));
  }
  for (const field of ['splitExternalLocalOriginErrors', 'consecutiveLocalOriginFailures', 'consecutiveErrors'] as const) {
    if (tp.outlierDetection?.[field] === undefined) continue;
    out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, 'outlierDetection', field], `outlierDetection.${field} is not yet applied by this waypoint and is ignored`));
  }
  const lb = tp.loadBalancer;
  if (lb === undefined) return;
  if (lb.simple === 'PASSTHROUGH') {
    out.push(resourceDiagnostic(dr.raw, 'warning', 'unsupported-field', [...at, 'loadBalancer', 'simple'],
      'PASSTHROUGH (send to the original destination address) is not supported on a waypoint, which always picks a Service endpoint; LEAST_REQUEST is used'));
  }
  if (lb.localityLbSetting !== undefined) {
    out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, 'loadBalancer', 'localityLbSetting'],
      'localityLbSetting is not applied: this waypoint knows neither its own locality nor its endpoints\' (EndpointSlice zones are not read), so distribute and failover cannot be computed; endpoints are balanced as if in one locality'));
  }
  const slowStartIgnored = (lb.warmup !== undefined || lb.warmupDurationSecs !== undefined) && (lb.consistentHash !== undefined || lb.simple === 'RANDOM');
  if (slowStartIgnored) {
    out.push(resourceDiagnostic(dr.raw, 'warning', 'unsupported-field', [...at, 'loadBalancer', lb.warmup !== undefined ? 'warmup' : 'warmupDurationSecs'],
      'slow start applies to ROUND_ROBIN and LEAST_REQUEST only (as in Envoy); it is ignored with this policy'));
  }
  if (lb.warmup !== undefined && lb.warmupDurationSecs !== undefined) {
    out.push(resourceDiagnostic(dr.raw, 'warning', 'superseded-field', [...at, 'loadBalancer', 'warmupDurationSecs'], 'warmup is set: warmupDurationSecs is ignored'));
  }
}
