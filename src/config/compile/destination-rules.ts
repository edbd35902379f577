// DestinationRule → per-Service-port traffic policy. On a waypoint a DR applies to the destination Service's
// inbound-vip clusters (istio-facts 6.1); `portLevelSettings` override the top-level fields for their port.
// Applied: loadBalancer. Everything else is reported (not yet applied / not supported on waypoints) and ignored.
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { DestinationRuleSpec, LoadBalancerSpec, OutlierDetectionSpec, TrafficPolicySpec } from '../model/destination-rule.js';
import { durationMs, type OutlierPolicy } from '../../upstream/outlier/outlier-detector.js';
import type { FieldPath } from '../resource.js';
import type { Valid, ValidResources } from '../validate/validate.js';
import type { EndpointConfig } from '../snapshot.js';
import { type HashKeySource, LEAST_REQUEST, type LbPolicy } from '../../upstream/lb/lb-policy.js';
import { buildMaglev, DEFAULT_MAGLEV_TABLE_SIZE } from '../../upstream/lb/maglev.js';
import { buildRing, DEFAULT_MIN_RING_SIZE } from '../../upstream/lb/ring-hash.js';

/** The settings that apply to one Service port, and the DR they come from. */
export interface PortPolicy {
  readonly rule: string;
  readonly lb: LoadBalancerSpec | undefined;
  /** connectionPool.http.http2MaxRequests (Istio: applies to HTTP/1.1 too). */
  readonly maxRequests: number | undefined;
  readonly outlier: OutlierPolicy | undefined;
}

/** Looks up the policy of a Service port; undefined when no DR applies to it. */
export type DestinationRulePolicies = (serviceKey: string, port: number) => PortPolicy | undefined;

export const NO_DESTINATION_RULES: DestinationRulePolicies = () => undefined;

/** Fields of a trafficPolicy this waypoint does not apply yet; each gets a warning when set. */
const NOT_APPLIED: ReadonlyArray<Exclude<keyof TrafficPolicySpec, 'portLevelSettings' | 'loadBalancer' | 'tls' | 'connectionPool' | 'outlierDetection'>> = ['proxyProtocol', 'tunnel', 'retryBudget'];

export function destinationRulePolicies(resources: ValidResources, clusterDomain: string, diagnostics: Diagnostic[]): DestinationRulePolicies {
  const byService = new Map<string, Valid<DestinationRuleSpec>>();
  const rules = [...resources.destinationRules].sort((a, b) => a.created - b.created || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const dr of rules) {
    reportIgnored(dr, diagnostics);
    const host = resolveHost(dr.spec.host, dr.raw.metadata.namespace, clusterDomain);
    const matched = [...resources.services.values()].filter((s) => hostMatches(host, `${s.raw.metadata.name}.${s.raw.metadata.namespace}.svc.${clusterDomain}`));
    if (matched.length === 0) {
      diagnostics.push(resourceDiagnostic(dr.raw, 'warning', 'destination-rule-host-not-found', ['spec', 'host'],
        `host "${dr.spec.host}" (${host}) matches no Service; the rule has no effect (hosts are Service names, short names resolve in the rule's namespace)`));
      continue;
    }
    for (const svc of matched) {
      const taken = byService.get(svc.key);
      // Istio: an exact host beats a wildcard; otherwise the oldest rule wins (Istio merges only non-conflicting DRs).
      if (taken !== undefined && !(host.startsWith('*') === false && taken.spec.host.startsWith('*'))) {
        diagnostics.push(resourceDiagnostic(dr.raw, 'warning', 'destination-rule-conflict', ['spec', 'host'],
          `Service ${svc.key} already has DestinationRule ${taken.key}; this rule does not apply to it (merge the two rules)`));
        continue;
      }
      byService.set(svc.key, dr);
    }
  }
  return (serviceKey, port) => {
    const dr = byService.get(serviceKey);
    const tp = dr?.spec.trafficPolicy;
    if (dr === undefined || tp === undefined) return undefined;
    const portLevel = tp.portLevelSettings?.find((p) => p.port.number === port);
    const pool = portLevel?.connectionPool ?? tp.connectionPool;
    const od = portLevel?.outlierDetection ?? tp.outlierDetection;
    return { rule: dr.key, lb: portLevel?.loadBalancer ?? tp.loadBalancer, maxRequests: pool?.http?.http2MaxRequests, outlier: od === undefined ? undefined : compileOutlier(od) };
  };
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
  switch (spec.simple) {
    case 'ROUND_ROBIN':
      return Object.freeze({ kind: 'round-robin' });
    case 'RANDOM':
      return Object.freeze({ kind: 'random' });
    default:
      // UNSPECIFIED and LEAST_CONN are LEAST_REQUEST in Istio; PASSTHROUGH is reported and falls back to it.
      return LEAST_REQUEST;
  }
}

function hashKeySource(ch: NonNullable<LoadBalancerSpec['consistentHash']>): HashKeySource {
  if (ch.httpHeaderName !== undefined) return { from: 'header', name: ch.httpHeaderName.toLowerCase() };
  if (ch.httpCookie !== undefined) return { from: 'cookie', name: ch.httpCookie.name };
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
  const pool = tp.connectionPool;
  for (const [group, fields] of [['tcp', pool?.tcp], ['http', pool?.http]] as const) {
    for (const field of Object.keys(fields ?? {})) {
      if (group === 'http' && field === 'http2MaxRequests') continue;
      out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, 'connectionPool', group, field], `connectionPool.${group}.${field} is not yet applied by this waypoint and is ignored`));
    }
  }
  for (const field of ['splitExternalLocalOriginErrors', 'consecutiveLocalOriginFailures', 'consecutiveErrors'] as const) {
    if (tp.outlierDetection?.[field] === undefined) continue;
    out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, 'outlierDetection', field], `outlierDetection.${field} is not yet applied by this waypoint and is ignored`));
  }
  const mode = tp.tls?.['mode'];
  if (mode === 'SIMPLE' || mode === 'MUTUAL') {
    out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, 'tls', 'mode'],
      `tls mode ${mode} (TLS origination to the backend) is not yet applied by this waypoint; requests go out without it`));
  }
  // ISTIO_MUTUAL and DISABLE need nothing: the waypoint's hop to an ambient backend is already HBONE mTLS.
  const lb = tp.loadBalancer;
  if (lb === undefined) return;
  if (lb.simple === 'PASSTHROUGH') {
    out.push(resourceDiagnostic(dr.raw, 'warning', 'unsupported-field', [...at, 'loadBalancer', 'simple'],
      'PASSTHROUGH (send to the original destination address) is not supported on a waypoint, which always picks a Service endpoint; LEAST_REQUEST is used'));
  }
  for (const field of ['localityLbSetting', 'warmupDurationSecs', 'warmup'] as const) {
    if (lb[field] === undefined) continue;
    out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, 'loadBalancer', field], `${field} is not yet applied by this waypoint and is ignored`));
  }
  if (lb.consistentHash?.httpCookie?.ttl !== undefined) {
    out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, 'loadBalancer', 'consistentHash', 'httpCookie', 'ttl'],
      'generating the cookie (ttl) is not yet applied: requests that carry the cookie are hashed on it, requests without it are balanced by LEAST_REQUEST'));
  }
}
