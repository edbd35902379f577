// The connection pools of one endpoint under its cluster's UpstreamSettings (DestinationRule connectionPool and
// tls), mapped onto undici's Pool options where they mean what Envoy means, and onto the HTTP/2 pool's options.
import tls from 'node:tls';
import { Pool } from 'undici';
import type { EndpointConfig } from '../config/snapshot.js';
import type { EndpointTunnel, PoolConnector } from '../hbone/upstream-tunnels.js';
import type { H2PoolOptions } from './h2-pool.js';
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
export function http1Pool(endpoint: EndpointConfig, defaults: PoolDefaults, tunnel: EndpointTunnel | undefined, upstream: UpstreamSettings | undefined): Pool {
  const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
  const pool = upstream?.pool ?? {};
  const origination = upstream?.tls;
  const idle = pool.idleTimeoutMs ?? defaults.idleTimeoutMs;
  let connect: PoolConnector | Pool.Options['connect'] | undefined;
  let scheme = 'http';
  if (tunnel !== undefined) {
    // TLS originated inside the HBONE tunnel (istio-facts 6.1: SIMPLE/MUTUAL wrap the inner connection).
    connect = origination === undefined ? tunnel.connect : tlsOverConnector(tunnel.connect, tlsConnectOptions(origination, 'http/1.1'));
  } else if (defaults.connect !== undefined) {
    connect = defaults.connect;
  } else if (origination !== undefined || pool.keepaliveTimeMs !== undefined) {
    if (origination !== undefined) scheme = 'https';
    connect = {
      ...(origination === undefined ? {} : tlsConnectOptions(origination, 'http/1.1')),
      ...(pool.keepaliveTimeMs === undefined ? {} : { keepAlive: true, keepAliveInitialDelay: pool.keepaliveTimeMs }),
    };
  }
  return new Pool(`${scheme}://${host}:${endpoint.port}`, {
    ...(connect === undefined ? {} : { connect }),
    // maxConnections: beyond it requests wait in the pool's queue (Envoy's pending requests).
    connections: pool.maxConnections ?? null,
    // maxRequestsPerConnection 1 "disables keep-alive" (pipelining 0 does that in undici); undici resets the
    // connection once its counter, read before it is incremented, reaches the limit: N requests need N - 1.
    pipelining: pool.maxRequestsPerConnection === 1 ? 0 : 1,
    connectTimeout: pool.connectTimeoutMs ?? defaults.connectTimeoutMs,
    keepAliveTimeout: idle,
    keepAliveMaxTimeout: idle,
    ...(pool.maxRequestsPerConnection === undefined || pool.maxRequestsPerConnection === 1 ? {} : { maxRequestsPerClient: pool.maxRequestsPerConnection - 1 }),
    // Streams can be long-lived; timeouts are the route's business, not the pool's.
    headersTimeout: 0,
    bodyTimeout: 0,
    strictContentLength: false,
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
