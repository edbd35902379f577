// DestinationRule (networking.istio.io v1/v1beta1): the schema. On a waypoint it applies to the destination
// Service's clusters; this waypoint applies `loadBalancer` and reports the rest as not yet applied (compile/destination-rules.ts).
import { z } from 'zod';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { FieldPath, RawResource } from '../resource.js';
import { isPrime } from '../../upstream/lb/maglev.js';

const duration = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'a duration such as "10s", "1.5s", "500ms" or "1h"');

const consistentHash = z.strictObject({
  httpHeaderName: z.string().min(1).optional(),
  httpCookie: z.strictObject({
    name: z.string().min(1),
    path: z.string().optional(),
    ttl: duration.optional(),
    attributes: z.array(z.record(z.string(), z.unknown())).optional(),
  }).optional(),
  useSourceIp: z.boolean().optional(),
  httpQueryParameterName: z.string().min(1).optional(),
  ringHash: z.strictObject({ minimumRingSize: z.number().int().min(1).max(8_388_608).optional() }).optional(),
  maglev: z.strictObject({ tableSize: z.number().int().min(1).optional() }).optional(),
  /** Deprecated in Istio: use ringHash.minimumRingSize. */
  minimumRingSize: z.number().int().min(1).max(8_388_608).optional(),
});
export type ConsistentHashSpec = z.infer<typeof consistentHash>;

export const loadBalancerSpec = z.strictObject({
  simple: z.enum(['UNSPECIFIED', 'LEAST_CONN', 'LEAST_REQUEST', 'ROUND_ROBIN', 'RANDOM', 'PASSTHROUGH']).optional(),
  consistentHash: consistentHash.optional(),
  localityLbSetting: z.record(z.string(), z.unknown()).optional(),
  warmupDurationSecs: duration.optional(),
  warmup: z.record(z.string(), z.unknown()).optional(),
});
export type LoadBalancerSpec = z.infer<typeof loadBalancerSpec>;

const opaque = z.record(z.string(), z.unknown()).optional();
const count = z.number().int().min(0).max(4_294_967_295);

export const connectionPoolSpec = z.strictObject({
  tcp: z.strictObject({
    maxConnections: count.optional(),
    connectTimeout: duration.optional(),
    tcpKeepalive: z.record(z.string(), z.unknown()).optional(),
    maxConnectionDuration: duration.optional(),
    idleTimeout: duration.optional(),
  }).optional(),
  http: z.strictObject({
    http1MaxPendingRequests: count.optional(),
    http2MaxRequests: count.min(1).optional(),
    maxRequestsPerConnection: count.optional(),
    maxRetries: count.optional(),
    idleTimeout: duration.optional(),
    h2UpgradePolicy: z.enum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']).optional(),
    useClientProtocol: z.boolean().optional(),
    maxConcurrentStreams: count.optional(),
  }).optional(),
});
export type ConnectionPoolSpec = z.infer<typeof connectionPoolSpec>;

const percent = z.number().int().min(0).max(100);
export const outlierDetectionSpec = z.strictObject({
  consecutive5xxErrors: count.optional(),
  consecutiveGatewayErrors: count.optional(),
  /** Deprecated alias of consecutiveGatewayErrors semantics in old Istio; treated as consecutive5xxErrors is not. */
  consecutiveErrors: count.optional(),
  splitExternalLocalOriginErrors: z.boolean().optional(),
  consecutiveLocalOriginFailures: count.optional(),
  interval: duration.optional(),
  baseEjectionTime: duration.optional(),
  maxEjectionPercent: percent.optional(),
  minHealthPercent: percent.optional(),
});
export type OutlierDetectionSpec = z.infer<typeof outlierDetectionSpec>;

const trafficPolicyFields = {
  loadBalancer: loadBalancerSpec.optional(),
  connectionPool: connectionPoolSpec.optional(),
  outlierDetection: outlierDetectionSpec.optional(),
  tls: opaque,
  proxyProtocol: opaque,
  tunnel: opaque,
  retryBudget: opaque,
};

export const portTrafficPolicy = z.strictObject({
  port: z.strictObject({ number: z.number().int().min(1).max(65535) }),
  ...trafficPolicyFields,
});
export type PortTrafficPolicySpec = z.infer<typeof portTrafficPolicy>;

export const trafficPolicySpec = z.strictObject({
  ...trafficPolicyFields,
  portLevelSettings: z.array(portTrafficPolicy).optional(),
});
export type TrafficPolicySpec = z.infer<typeof trafficPolicySpec>;

export const destinationRuleSpec = z.strictObject({
  host: z.string().min(1),
  trafficPolicy: trafficPolicySpec.optional(),
  subsets: z.array(z.record(z.string(), z.unknown())).optional(),
  exportTo: z.array(z.string()).optional(),
  workloadSelector: z.record(z.string(), z.unknown()).optional(),
});
export type DestinationRuleSpec = z.infer<typeof destinationRuleSpec>;

/** Istio's admission checks beyond the schema (oneofs, prime Maglev table); false rejects the rule whole. */
export function checkDestinationRule(res: RawResource, spec: DestinationRuleSpec, out: Diagnostic[]): boolean {
  const tp = spec.trafficPolicy;
  if (tp === undefined) return true;
  let ok = checkLb(res, tp.loadBalancer, ['spec', 'trafficPolicy', 'loadBalancer'], out);
  tp.portLevelSettings?.forEach((p, i) => {
    ok = checkLb(res, p.loadBalancer, ['spec', 'trafficPolicy', 'portLevelSettings', i, 'loadBalancer'], out) && ok;
  });
  return ok;
}

function checkLb(res: RawResource, lb: LoadBalancerSpec | undefined, at: FieldPath, out: Diagnostic[]): boolean {
  if (lb === undefined) return true;
  const fail = (path: FieldPath, message: string): false => {
    out.push(resourceDiagnostic(res, 'error', 'invalid-field', path, message));
    return false;
  };
  const ch = lb.consistentHash;
  if (ch === undefined) return true;
  if (lb.simple !== undefined) return fail([...at, 'simple'], 'set either simple or consistentHash, not both (they are one oneof)');
  const keys = (['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'] as const).filter((k) => ch[k] !== undefined && ch[k] !== false);
  if (keys.length !== 1) {
    return fail([...at, 'consistentHash'], `consistentHash needs exactly one hash key (httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName); found ${keys.length === 0 ? 'none' : keys.join(', ')}`);
  }
  if (ch.ringHash !== undefined && ch.maglev !== undefined) return fail([...at, 'consistentHash', 'maglev'], 'set either ringHash or maglev, not both');
  if (ch.minimumRingSize !== undefined && ch.maglev !== undefined) return fail([...at, 'consistentHash', 'minimumRingSize'], 'minimumRingSize applies to ringHash; remove it when using maglev');
  const size = ch.maglev?.tableSize;
  if (size !== undefined && (!isPrime(size) || size > 5_000_011)) return fail([...at, 'consistentHash', 'maglev', 'tableSize'], `tableSize ${size} must be a prime number no larger than 5000011 (e.g. 65537)`);
  return true;
}
