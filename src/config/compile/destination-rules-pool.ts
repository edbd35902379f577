// DestinationRule `connectionPool` → pool settings of the Service's clusters (upstream/upstream-settings.ts), plus
// warnings for the fields this waypoint cannot apply. `http2MaxRequests` stays the cluster circuit breaker
// (ClusterConfig.maxRequests, upstream/circuit-breaker.ts).
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { ConnectionPoolSpec, DestinationRuleSpec } from '../model/destination-rule.js';
import type { FieldPath } from '../resource.js';
import type { Valid } from '../validate/validate.js';
import { durationMs } from '../../upstream/outlier/outlier-detector.js';
import type { PoolSettings } from '../../upstream/upstream-settings.js';

/** Fields reported as not applied, with why. */
const NOT_APPLIED: ReadonlyArray<readonly ['tcp' | 'http', string, string]> = [
  ['tcp', 'maxConnectionDuration', 'connections are not closed after a maximum duration'],
  ['tcp', 'idleTimeout', 'TCP proxying keeps its 1h idle timeout (set connectionPool.http.idleTimeout for HTTP pools)'],
];

export function compilePool(dr: Valid<DestinationRuleSpec>, pool: ConnectionPoolSpec | undefined, at: FieldPath, out: Diagnostic[]): PoolSettings {
  if (pool === undefined) return {};
  for (const [group, field, why] of NOT_APPLIED) {
    if ((pool[group] as Record<string, unknown> | undefined)?.[field] === undefined) continue;
    out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, group, field], `connectionPool.${group}.${field} is not applied by this waypoint: ${why}`));
  }
  const ka = pool.tcp?.tcpKeepalive;
  for (const field of ['probes', 'interval'] as const) {
    if (ka?.[field] === undefined) continue;
    out.push(resourceDiagnostic(dr.raw, 'warning', 'not-yet-applied', [...at, 'tcp', 'tcpKeepalive', field],
      `tcpKeepalive.${field} is not applied (Node.js sets only the idle time before the first probe; the system default is used)`));
  }
  const tcp = pool.tcp;
  const http = pool.http;
  const settings: { -readonly [K in keyof PoolSettings]: PoolSettings[K] } = {};
  // Envoy treats 0 connections as a limit nobody can pass; Istio's API says > 0, so 0 is taken as unset.
  if (tcp?.maxConnections !== undefined && tcp.maxConnections > 0) settings.maxConnections = tcp.maxConnections;
  if (tcp?.connectTimeout !== undefined) settings.connectTimeoutMs = Math.max(1, durationMs(tcp.connectTimeout));
  if (ka !== undefined) settings.keepaliveTimeMs = ka.time === undefined ? 7_200_000 : durationMs(ka.time);
  if (http?.idleTimeout !== undefined) {
    // Istio: "0s disables the idle timeout" (undici: an hour, the longest a keep-alive is worth holding here).
    const ms = durationMs(http.idleTimeout);
    settings.idleTimeoutMs = ms === 0 ? 3_600_000 : ms;
  }
  if (http?.maxRequestsPerConnection !== undefined && http.maxRequestsPerConnection > 0) settings.maxRequestsPerConnection = http.maxRequestsPerConnection;
  if (http?.http1MaxPendingRequests !== undefined) settings.maxPendingRequests = http.http1MaxPendingRequests;
  if (http?.maxRetries !== undefined) settings.maxRetries = http.maxRetries;
  if (http?.maxConcurrentStreams !== undefined && http.maxConcurrentStreams > 0) settings.maxConcurrentStreams = http.maxConcurrentStreams;
  // Istio: useClientProtocol wins over h2UpgradePolicy.
  if (http?.useClientProtocol === true) settings.protocol = 'client';
  else if (http?.h2UpgradePolicy === 'UPGRADE') settings.protocol = 'upgrade-h2';
  return Object.freeze(settings);
}
