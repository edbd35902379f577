// The connection pools of one endpoint under its cluster's UpstreamSettings (DestinationRule connectionPool and
// tls), mapped onto the HTTP/1.1 pool's options (h1/h1-pool.ts) and the HTTP/2 pool's.
import tls from 'node:tls';
import type { EndpointConfig } from '../config/snapshot.js';
import type { EndpointTunnel, PoolConnector } from '../hbone/upstream-tunnels.js';
import type { H2PoolOptions } from './h2-pool.js';
import type { H1Connect } from './h1/h1-dial.js';
import { H1Pool } from './h1/h1-pool.js';
import { tlsConnectOptions, tlsOverConnector } from './tls/tls-origination.js';
import type { UpstreamSettings } from './upstream-settings.js';

/** The waypoint-wide defaults a cluster's settings override. */
export interface PoolDefaults {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Overrides how plain HTTP/1.1 endpoints are dialled (`waypoint explain`). */
  readonly connect?: PoolConnector;
}

/** The HTTP/1.1 keep-alive pool: one request per connection at a time (Envoy's HTTP/1.1 codec does not pipeline). */
export function http1Pool(endpoint: EndpointConfig, defaults: PoolDefaults, tunnel: EndpointTunnel | undefined, upstream: UpstreamSettings | undefined): H1Pool {
  const pool = upstream?.pool ?? {};
  const origination = upstream?.tls;
  let connect: H1Connect | undefined;
  let tlsDial = false;
  if (tunnel !== undefined) {
    // TLS originated inside the HBONE tunnel (istio-facts 6.1: SIMPLE/MUTUAL wrap the inner connection).
    connect = origination === undefined ? tunnel.connect : tlsOverConnector(tunnel.connect, tlsConnectOptions(origination, 'http/1.1'));
  } else if (defaults.connect !== undefined) {
    connect = defaults.connect;
  } else if (origination !== undefined || pool.keepaliveTimeMs !== undefined) {
    tlsDial = origination !== undefined;
    connect = {
      ...(origination === undefined ? {} : tlsConnectOptions(origination, 'http/1.1')),
      ...(pool.keepaliveTimeMs === undefined ? {} : { keepAlive: true, keepAliveInitialDelay: pool.keepaliveTimeMs }),
    };
  }
  return new H1Pool({
    host: endpoint.address,
    port: endpoint.port,
    tls: tlsDial,
    connect,
    connectTimeoutMs: pool.connectTimeoutMs ?? defaults.connectTimeoutMs,
    idleTimeoutMs: pool.idleTimeoutMs ?? defaults.idleTimeoutMs,
    // maxConnections: beyond it requests wait in the pool's queue (Envoy's pending requests).
    maxConnections: pool.maxConnections,
    // maxRequestsPerConnection 1 "disables keep-alive": every request says `connection: close`.
    maxRequestsPerConnection: pool.maxRequestsPerConnection ?? 0,
  });
}

/** HTTP/2 pool options the cluster's settings change: limits, timeouts, and a TLS dial (ALPN h2) when originating. */
export function http2PoolOverrides(endpoint: EndpointConfig, tunnel: EndpointTunnel | undefined, upstream: UpstreamSettings | undefined): Partial<H2PoolOptions> {
  if (upstream === undefined) return {};
  const pool = upstream.pool;
  const origination = upstream.tls;
  const out: { -readonly [K in keyof H2PoolOptions]?: H2PoolOptions[K] } = {};
  if (pool.connectTimeoutMs !== undefined) out.connectTimeoutMs = pool.connectTimeoutMs;
  if (pool.idleTimeoutMs !== undefined) out.idleTimeoutMs = pool.idleTimeoutMs;
  if (pool.maxConnections !== undefined) out.maxConnections = pool.maxConnections;
  if (pool.maxPendingRequests !== undefined) out.maxPending = pool.maxPendingRequests;
  if (pool.maxConcurrentStreams !== undefined) out.maxConcurrentStreams = pool.maxConcurrentStreams;
  if (origination !== undefined) {
    const options = tlsConnectOptions(origination, 'h2');
    out.dial = tunnel === undefined
      ? () => tls.connect({ ...options, host: endpoint.address, port: endpoint.port })
      : () => tls.connect({ ...options, socket: tunnel.open() });
  }
  return out;
}
