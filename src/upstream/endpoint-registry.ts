// Runtime state of upstream endpoints, kept outside the snapshot and keyed by the stable `ip:port` id:
// the HTTP/1.1 keep-alive pool, the HTTP/2 pool (h2-pool.ts) and the active-request count the load balancer reads.
import { Pool } from 'undici';
import type { EndpointConfig, Snapshot } from '../config/snapshot.js';
import { LbRuntime } from './lb/lb-runtime.js';
import { CircuitBreakers } from './circuit-breaker.js';
import { OutlierDetectors } from './outlier/outlier-detector.js';
import { DEFAULT_H2_POOL_OPTIONS, H2Pool, type H2PoolOptions } from './h2-pool.js';
import { type EndpointTunnel, type PoolConnector, transportOf, type UpstreamTunnels } from '../hbone/upstream-tunnels.js';

export class EndpointState {
  readonly key: string;
  readonly pool: Pool;
  /** Requests in flight to this endpoint (least-request load balancing). */
  active = 0;
  /** `plain`, or the HBONE identity an ambient endpoint is reached with (then `tunnel` is set). */
  readonly transport: string;
  readonly tunnel: EndpointTunnel | undefined;
  readonly #endpoint: EndpointConfig;
  readonly #options: PoolOptions;
  #h2: H2Pool | undefined = undefined;

  constructor(endpoint: EndpointConfig, options: PoolOptions) {
    this.key = endpoint.key;
    this.#endpoint = endpoint;
    this.#options = options;
    const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
    this.transport = transportOf(endpoint);
    this.tunnel = endpoint.hbone === undefined ? undefined : options.tunnels?.forEndpoint(endpoint);
    this.pool = new Pool(`http://${host}:${endpoint.port}`, {
      ...(this.tunnel === undefined ? (options.connect === undefined ? {} : { connect: options.connect }) : { connect: this.tunnel.connect }),
      connections: null,
      pipelining: 1,
      connectTimeout: options.connectTimeoutMs,
      keepAliveTimeout: options.idleTimeoutMs,
      keepAliveMaxTimeout: options.idleTimeoutMs,
      // Streams can be long-lived; timeouts are the route's business, not the pool's.
      headersTimeout: 0,
      bodyTimeout: 0,
      strictContentLength: false,
    });
  }

  /** The multiplexed HTTP/2 pool, for clusters whose port speaks http2/grpc/h2c; created on first use. */
  get h2(): H2Pool {
    this.#h2 ??= new H2Pool(this.#options.h2Dial?.address ?? this.#endpoint.address, this.#options.h2Dial?.port ?? this.#endpoint.port, {
      ...DEFAULT_H2_POOL_OPTIONS,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      idleTimeoutMs: this.#options.idleTimeoutMs,
      ...this.#options.h2,
    });
    return this.#h2;
  }

  /** Graceful: in-flight requests finish, then connections close. */
  close(): Promise<void> {
    return Promise.all([this.pool.close().catch(() => undefined), this.#h2?.close()]).then(() => undefined);
  }

  destroy(): Promise<void> {
    return Promise.all([this.pool.destroy().catch(() => undefined), this.#h2?.destroy()]).then(() => undefined);
  }
}

export interface PoolOptions {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Overrides of the HTTP/2 pool defaults (PING interval, stream queue), mainly for tests. */
  readonly h2?: Partial<H2PoolOptions>;
  /** HBONE outbound for ambient endpoints; without it they are reached plain. */
  readonly tunnels?: UpstreamTunnels;
  /** Overrides how plain HTTP/1.1 endpoints are dialled (`waypoint explain` points every endpoint at its stub backend). */
  readonly connect?: PoolConnector;
  /** Overrides where the HTTP/2 pool of every endpoint connects (`waypoint explain`'s h2c stub backend). */
  readonly h2Dial?: { readonly address: string; readonly port: number };
}

export class EndpointRegistry {
  readonly #states = new Map<string, EndpointState>();
  /** Load-balancer state (round-robin cursors) keyed by cluster id (lb/lb-runtime.ts). */
  readonly lb = new LbRuntime();
  /** Requests in flight per cluster, for DestinationRule connectionPool limits (circuit-breaker.ts). */
  readonly breakers = new CircuitBreakers();
  /** Outlier-detection counters and ejections per endpoint id (outlier/outlier-detector.ts). */
  readonly outliers = new OutlierDetectors();
  readonly #options: PoolOptions;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** The state for an endpoint, created on first use. */
  get(endpoint: EndpointConfig): EndpointState {
    let state = this.#states.get(endpoint.key);
    if (state === undefined || state.transport !== transportOf(endpoint)) {
      // Joining or leaving the ambient mesh changes how the same ip:port is reached: new pool, old one drains.
      if (state !== undefined) void state.close();
      state = new EndpointState(endpoint, this.#options);
      this.#states.set(endpoint.key, state);
    }
    return state;
  }

  /** After a swap: endpoints no longer in any cluster are closed once their in-flight requests finish. */
  reconcile(snapshot: Snapshot): void {
    const live = new Set<string>();
    for (const cluster of snapshot.clusters.values()) for (const e of cluster.endpoints) live.add(e.key);
    this.lb.retain(new Set(snapshot.clusters.keys()));
    for (const [key, state] of this.#states) {
      if (live.has(key)) continue;
      this.#states.delete(key);
      void state.close();
    }
  }

  get size(): number {
    return this.#states.size;
  }

  /** HTTP/1.1 pool totals over every endpoint (undici Pool.stats) plus requests in flight, for the proxy's metrics. */
  poolStats(): { connected: number; free: number; pending: number; running: number; active: number } {
    const t = { connected: 0, free: 0, pending: 0, running: 0, active: 0 };
    for (const s of this.#states.values()) {
      const p = s.pool.stats;
      t.connected += p.connected;
      t.free += p.free;
      t.pending += p.pending;
      t.running += p.running;
      t.active += s.active;
    }
    return t;
  }

  async close(): Promise<void> {
    const pools = [...this.#states.values()].map((s) => s.destroy());
    this.#states.clear();
    await Promise.all(pools);
  }
}
