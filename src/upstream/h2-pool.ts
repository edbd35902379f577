// HTTP/2 connection pool for one upstream endpoint (cleartext, prior knowledge): requests are multiplexed
// over as few connections as the peer's stream limits allow, queued (bounded) while none has room.
// `dispatch(opts, handler)` speaks undici's DispatchHandler, so the exchange does not care which pool it uses.
import type { Dispatcher } from 'undici';
import { H2Connection, type H2ConnectionOptions } from './h2-connection.js';
import { type H2DispatchOptions, h2Error, H2Request, type H2StreamSource } from './h2-request.js';

export interface H2PoolOptions extends H2ConnectionOptions {
  /** Connections opened to the endpoint at most (each carries up to its peer's stream limit). */
  readonly maxConnections: number;
  /** Requests waiting for a stream at most; beyond that they fail with `overflow` (Envoy's UO). */
  readonly maxPending: number;
}

export const DEFAULT_H2_POOL_OPTIONS: Omit<H2PoolOptions, 'connectTimeoutMs' | 'idleTimeoutMs'> = {
  pingIntervalMs: 30_000,
  pingTimeoutMs: 10_000,
  maxConnections: 16,
  maxPending: 1024,
};

export class H2Pool implements H2StreamSource {
  readonly #host: string;
  readonly #port: number;
  readonly #options: H2PoolOptions;
  /** Connections that can take new streams (connecting or ready). */
  readonly #conns: H2Connection[] = [];
  /** Every connection not yet closed, draining ones included, so destroy() reaches them all. */
  readonly #open = new Set<H2Connection>();
  #queue: H2Request[] = [];
  #closed = false;

  constructor(host: string, port: number, options: H2PoolOptions) {
    this.#host = host;
    this.#port = port;
    this.#options = options;
  }

  dispatch(opts: H2DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    new H2Request(this, opts, handler).start();
    return true;
  }

  /** Open connections, for tests and metrics. */
  get connections(): number {
    return this.#conns.length;
  }

  acquire(req: H2Request, exclude: H2Connection | undefined): void {
    if (this.#closed) return req.fail(h2Error('upstream pool closed', 'EPIPE', undefined));
    const conn = this.#pick(exclude);
    if (conn !== undefined) return req.attach(conn);
    if (this.#queue.length >= this.#options.maxPending) return req.fail(h2Error('too many requests waiting for an upstream stream', 'H2_OVERFLOW', undefined));
    this.#queue.push(req);
    this.#growIfNeeded();
  }

  cancel(req: H2Request): void {
    const i = this.#queue.indexOf(req);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  /** Graceful: connections close once their streams finish. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#failQueue(h2Error('upstream pool closed', 'EPIPE', undefined));
    for (const c of [...this.#open]) c.close();
  }

  async destroy(): Promise<void> {
    this.#closed = true;
    this.#failQueue(h2Error('upstream pool destroyed', 'EPIPE', undefined));
    for (const c of [...this.#open]) c.destroy();
    this.#conns.length = 0;
    this.#open.clear();
  }

  /** The ready connection with the most free streams (spreads load, fills the busiest last). */
  #pick(exclude: H2Connection | undefined): H2Connection | undefined {
    let best: H2Connection | undefined;
    let bestRoom = 0;
    for (const c of this.#conns) {
      if (c === exclude || c.state !== 'ready') continue;
      const room = c.capacity;
      if (room > bestRoom) {
        best = c;
        bestRoom = room;
      }
    }
    return best;
  }

  /** Opens another connection when the connections being set up cannot take the queue. */
  #growIfNeeded(): void {
    let connectingRoom = 0;
    for (const c of this.#conns) if (c.state === 'connecting') connectingRoom += c.capacity;
    if (this.#queue.length <= connectingRoom || this.#conns.length >= this.#options.maxConnections) return;
    const conn = new H2Connection(this.#host, this.#port, this.#options, this.#events);
    this.#conns.push(conn);
    this.#open.add(conn);
  }

  readonly #events = {
    onCapacity: (conn: H2Connection): void => {
      while (this.#queue.length > 0 && conn.state === 'ready' && conn.capacity > 0) {
        const next = this.#queue.shift() as H2Request;
        next.attach(conn);
      }
      if (this.#queue.length > 0) this.#growIfNeeded();
    },
    onClosed: (conn: H2Connection): void => {
      this.#open.delete(conn);
    },
    onGone: (conn: H2Connection): void => {
      const i = this.#conns.indexOf(conn);
      if (i >= 0) this.#conns.splice(i, 1);
      if (this.#queue.length === 0 || this.#closed) return;
      // A connection that failed before it was ready fails the requests waiting for it (connect error),
      // unless another connection can still serve them.
      if (!conn.connected && conn.failure !== undefined && !this.#conns.some((c) => c.state === 'ready' || c.state === 'connecting')) {
        return this.#failQueue(conn.failure);
      }
      for (const c of this.#conns) if (c.state === 'ready') this.#events.onCapacity(c);
      if (this.#queue.length > 0) this.#growIfNeeded();
    },
  };

  #failQueue(err: Error): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const r of queue) r.fail(err);
  }
}
