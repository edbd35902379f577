// DestinationRule (networking.istio.io v1/v1beta1): the schema and Istio's admission checks. On a waypoint it
// applies to the destination Service's clusters (compile/destination-rules*.ts say which fields are enforced).
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
  /** Supersedes warmupDurationSecs (Istio 1.24+): window, starting weight and curve of slow start. */
  warmup: z.strictObject({
    duration: duration,
    minimumPercent: z.number().min(0).max(100).optional(),
    aggression: z.number().min(1).optional(),
  }).optional(),
});
export type LoadBalancerSpec = z.infer<typeof loadBalancerSpec>;

const opaque = z.record(z.string(), z.unknown()).optional();
const count = z.number().int().min(0).max(4_294_967_295);

export const connectionPoolSpec = z.strictObject({
  tcp: z.strictObject({
    maxConnections: count.optional(),
    connectTimeout: duration.optional(),
    tcpKeepalive: z.strictObject({ probes: count.optional(), time: duration.optional(), interval: duration.optional() }).optional(),
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

/** ClientTLSSettings: TLS the proxy originates to the backend. File fields are paths read outside compile. */
export const clientTlsSpec = z.strictObject({
  mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).optional(),
  clientCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  credentialName: z.string().optional(),
  subjectAltNames: z.array(z.string().min(1)).optional(),
  sni: z.string().optional(),
  insecureSkipVerify: z.boolean().optional(),
  caCrl: z.string().optional(),
});
export type ClientTlsSpec = z.infer<typeof clientTlsSpec>;

const trafficPolicyFields = {
  loadBalancer: loadBalancerSpec.optional(),
  connectionPool: connectionPoolSpec.optional(),
  outlierDetection: outlierDetectionSpec.optional(),
  tls: clientTlsSpec.optional(),
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
  ok = checkTls(res, tp.tls, ['spec', 'trafficPolicy', 'tls'], out) && ok;
  tp.portLevelSettings?.forEach((p, i) => {
    ok = checkLb(res, p.loadBalancer, ['spec', 'trafficPolicy', 'portLevelSettings', i, 'loadBalancer'], out) && ok;
    ok = checkTls(res, p.tls, ['spec', 'trafficPolicy', 'portLevelSettings', i, 'tls'], out) && ok;
  });
  return ok;
}

/** Istio's ClientTLSSettings validation (pkg/config/validation): what each mode needs and forbids. */
function checkTls(res: RawResource, tls: ClientTlsSpec | undefined, at: FieldPath, out: Diagnostic[]): boolean {
  if (tls === undefined) return true;
  const fail = (field: string, message: string): false => {
    out.push(resourceDiagnostic(res, 'error', 'invalid-field', [...at, field], message));
    return false;
  };
  const mode = tls.mode ?? 'DISABLE';
  const files = (['clientCertificate', 'privateKey', 'caCertificates', 'caCrl'] as const).filter((f) => tls[f] !== undefined && tls[f] !== '');
  if (mode === 'DISABLE' || mode === 'ISTIO_MUTUAL') {
    const set = [...files, ...(tls.credentialName !== undefined && tls.credentialName !== '' ? ['credentialName'] : [])];
    const first = set[0];
    if (first !== undefined) return fail(first, `${first} cannot be set with tls mode ${mode} (${mode === 'ISTIO_MUTUAL' ? 'the mesh certificates are used' : 'no TLS is originated'})`);
    return true;
  }
  if (tls.credentialName !== undefined && tls.credentialName !== '') {
    const first = files[0];
    if (first !== undefined) return fail(first, `${first} cannot be set together with credentialName (the certificates come from the Secret)`);
    return true;
  }
  if (mode === 'MUTUAL') {
    if (tls.clientCertificate === undefined || tls.clientCertificate === '') return fail('clientCertificate', 'tls mode MUTUAL needs clientCertificate and privateKey (or credentialName)');
    if (tls.privateKey === undefined || tls.privateKey === '') return fail('privateKey', 'tls mode MUTUAL needs clientCertificate and privateKey (or credentialName)');
  }
  return true;
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
