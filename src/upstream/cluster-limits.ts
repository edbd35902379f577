// DestinationRule connectionPool limits checked per request, besides http2MaxRequests (circuit-breaker.ts):
// http1MaxPendingRequests (requests waiting for a connection, per cluster: over it 503 `UO`, as Envoy's pending
// circuit breaker) and the key of the maxRetries budget (retries outstanding per cluster).
import type { ClusterConfig } from '../config/snapshot.js';
import type { EndpointRegistry, EndpointState } from './endpoint-registry.js';

/**
 * True when the request would have to wait for a connection to `endpoint` while the cluster already has its
 * limit of requests waiting (the HTTP/1.1 pool's queue, which includes those waiting on a connection being set up).
 */
export function pendingOverflow(cluster: ClusterConfig, registry: EndpointRegistry, endpoint: EndpointState): boolean {
  const max = cluster.upstream?.pool.maxPendingRequests;
  if (max === undefined) return false;
  if (endpoint.pool.free > 0) return false;
  let pending = 0;
  for (const e of cluster.endpoints) pending += registry.get(e, cluster.upstream).pool.pending;
  return pending >= max;
}

/** The CircuitBreakers key under which a cluster's outstanding retries are counted. */
export function retryBudgetKey(cluster: ClusterConfig): string {
  return `${cluster.id}#retries`;
}
