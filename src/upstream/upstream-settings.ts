// How a cluster's endpoints are connected to (DestinationRule connectionPool and tls), compiled once. Endpoint
// pools are keyed by endpoint and these settings' id, so two Services with different settings never share a pool
// (Envoy's pools are per cluster and host, too).
import type { TlsOrigination } from './tls/tls-origination.js';

export interface PoolSettings {
  /** connectionPool.tcp.maxConnections: connections per endpoint; requests beyond wait in the pool's queue. */
  readonly maxConnections?: number;
  /** connectionPool.tcp.connectTimeout. */
  readonly connectTimeoutMs?: number;
  /** connectionPool.tcp.tcpKeepalive.time: idle time before the first keepalive probe (SO_KEEPALIVE). */
  readonly keepaliveTimeMs?: number;
  /** connectionPool.http.idleTimeout: a pooled connection without requests for this long is closed. */
  readonly idleTimeoutMs?: number;
  /** connectionPool.http.maxRequestsPerConnection (0 / absent: unlimited; 1 disables keep-alive). */
  readonly maxRequestsPerConnection?: number;
  /** connectionPool.http.http1MaxPendingRequests: requests queued for a connection, per cluster, before 503 `UO`. */
  readonly maxPendingRequests?: number;
  /** connectionPool.http.maxRetries: retries outstanding per cluster; past it, no more retries. */
  readonly maxRetries?: number;
  /** connectionPool.http.maxConcurrentStreams: streams per HTTP/2 upstream connection at most. */
  readonly maxConcurrentStreams?: number;
  /** Upstream HTTP version override: `h2UpgradePolicy: UPGRADE` (h2c) or `useClientProtocol` (downstream's). */
  readonly protocol?: 'upgrade-h2' | 'client';
}

export interface UpstreamSettings {
  /** Stable across snapshots for the same settings (a digest of them): part of the endpoint pool key. */
  readonly id: string;
  readonly pool: PoolSettings;
  readonly tls?: TlsOrigination;
}
