// Runtime state of upstream endpoints, kept outside the snapshot and keyed by the stable `ip:port` id:
// the HTTP/1.1 keep-alive pool and the active-request count the load balancer reads.
import { Pool } from 'undici';
import type { EndpointConfig, Snapshot } from '../config/snapshot.js';

export class EndpointState {
  readonly key: string;
  readonly pool: Pool;
  /** Requests in flight to this endpoint (least-request load balancing). */
  active = 0;

  constructor(endpoint: EndpointConfig, options: PoolOptions) {
    this.key = endpoint.key;
    const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
    this.pool = new Pool(`http://${host}:${endpoint.port}`, {
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
}

export interface PoolOptions {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export class EndpointRegistry {
  readonly #states = new Map<string, EndpointState>();
  readonly #options: PoolOptions;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** The state for an endpoint, created on first use. */
  get(endpoint: EndpointConfig): EndpointState {
    let state = this.#states.get(endpoint.key);
    if (state === undefined) {
      state = new EndpointState(endpoint, this.#options);
      this.#states.set(endpoint.key, state);
    }
    return state;
  }

  /** After a swap: endpoints no longer in any cluster are closed once their in-flight requests finish. */
  reconcile(snapshot: Snapshot): void {
    const live = new Set<string>();
    for (const cluster of snapshot.clusters.values()) for (const e of cluster.endpoints) live.add(e.key);
    for (const [key, state] of this.#states) {
      if (live.has(key)) continue;
      this.#states.delete(key);
      state.pool.close().catch(() => undefined);
    }
  }

  get size(): number {
    return this.#states.size;
  }

  async close(): Promise<void> {
    const pools = [...this.#states.values()].map((s) => s.pool.destroy().catch(() => undefined));
    this.#states.clear();
    await Promise.all(pools);
  }
}
