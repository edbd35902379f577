// Runtime state of upstream endpoints, kept outside the snapshot and keyed by the stable `ip:port` id (plus the
// cluster's DestinationRule pool/TLS settings id when it has them, endpoint-pools.ts):
// the HTTP/1.1 keep-alive pool, the HTTP/2 pool (h2-pool.ts) and the active-request count the load balancer reads.
import type { EndpointConfig, Snapshot } from '../config/snapshot.js';
import { LbRuntime } from './lb/lb-runtime.js';
import { CircuitBreakers } from './circuit-breaker.js';
import { OutlierDetectors } from './outlier/outlier-detector.js';
import { DEFAULT_H2_POOL_OPTIONS, H2Pool, type H2PoolOptions } from './h2-pool.js';
import { type EndpointTunnel, type PoolConnector, transportOf, type UpstreamTunnels } from '../hbone/upstream-tunnels.js';
import { http1Pool, http2PoolOverrides } from './endpoint-pools.js';
import type { H1Pool } from './h1/h1-pool.js';
import type { UpstreamSettings } from './upstream-settings.js';

export class EndpointState {
  readonly key: string;
  /** The HTTP/1.1 keep-alive pool (h1/h1-pool.ts). */
  readonly pool: H1Pool;
  /** Requests in flight to this endpoint (least-request load balancing). */
  active = 0;
  /** `plain`, or the HBONE identity an ambient endpoint is reached with (then `tunnel` is set). */
  readonly transport: string;
  readonly tunnel: EndpointTunnel | undefined;
  readonly #endpoint: EndpointConfig;
  readonly #options: PoolOptions;
  readonly #upstream: UpstreamSettings | undefined;
  #h2: H2Pool | undefined = undefined;

  constructor(endpoint: EndpointConfig, options: PoolOptions, upstream?: UpstreamSettings) {
    this.key = endpoint.key;
    this.#endpoint = endpoint;
    this.#options = options;
    this.#upstream = upstream;
    this.transport = transportOf(endpoint);
    this.tunnel = endpoint.hbone === undefined ? undefined : options.tunnels?.forEndpoint(endpoint);
    this.pool = http1Pool(endpoint, options, this.tunnel, upstream);
  }

  /** The multiplexed HTTP/2 pool, for clusters whose port speaks http2/grpc/h2c; created on first use. */
  get h2(): H2Pool {
    this.#h2 ??= new H2Pool(this.#options.h2Dial?.address ?? this.#endpoint.address, this.#options.h2Dial?.port ?? this.#endpoint.port, {
      ...DEFAULT_H2_POOL_OPTIONS,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      idleTimeoutMs: this.#options.idleTimeoutMs,
      ...this.#options.h2,
      ...(this.tunnel === undefined ? {} : { dial: this.tunnel.open }),
      // DestinationRule connectionPool and tls of the cluster (endpoint-pools.ts).
      ...http2PoolOverrides(this.#endpoint, this.tunnel, this.#upstream),
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

  /**
   * The state for an endpoint, created on first use. A cluster with DestinationRule pool or TLS settings gets
   * pools of its own for the endpoint (keyed by the settings' id), as Envoy keeps pools per cluster and host.
   */
  get(endpoint: EndpointConfig, upstream?: UpstreamSettings): EndpointState {
    const id = stateId(endpoint, upstream);
    let state = this.#states.get(id);
    if (state === undefined || state.transport !== transportOf(endpoint)) {
      // Joining or leaving the ambient mesh changes how the same ip:port is reached: new pool, old one drains.
      if (state !== undefined) void state.close();
      state = new EndpointState(endpoint, this.#options, upstream);
      this.#states.set(id, state);
    }
    return state;
  }

  /** After a swap: endpoints no longer in any cluster (with these settings) are closed once their in-flight requests finish. */
  reconcile(snapshot: Snapshot): void {
    const live = new Set<string>();
    for (const cluster of snapshot.clusters.values()) for (const e of cluster.endpoints) live.add(stateId(e, cluster.upstream));
    // Workload-addressed listeners (src/hbone/workload-listeners.ts) pin an endpoint of their own cluster.
    for (const l of snapshot.listeners.values()) if (l.tunnelOnly === true) for (const e of l.servicePort.cluster.endpoints) live.add(stateId(e, undefined));
    this.lb.retain(new Set(snapshot.clusters.keys()));
    this.lb.track(snapshot.clusters.values());
    for (const [key, state] of this.#states) {
      if (live.has(key)) continue;
      this.#states.delete(key);
      void state.close();
    }
  }

  get size(): number {
    return this.#states.size;
  }

  /** HTTP/1.1 pool totals over every endpoint (H1Pool.stats, undici's Pool.stats counters) plus requests in flight, for the proxy's metrics. */
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

function stateId(endpoint: EndpointConfig, upstream: UpstreamSettings | undefined): string {
  return upstream === undefined ? endpoint.key : `${endpoint.key}|${upstream.id}`;
}
