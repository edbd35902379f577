// HTTP/1.1 keep-alive connection pool for one upstream endpoint: one request per connection at a time, idle
// connections reused most-recent first, at most maxConnections with a FIFO queue behind them (Envoy's pending
// requests). `dispatch(opts, handler)` speaks undici's DispatchHandler, as the HTTP/2 pool (../h2-pool.ts) does.
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { H1Connection, type H1ConnectionLimits, type H1ConnectionOwner } from './h1-connection.js';
import type { DialTarget, H1Connect } from './h1-dial.js';
import { h1Error, POOL_CLOSED, POOL_DESTROYED } from './h1-errors.js';
import { type H1ConnectionSource, type H1DispatchOptions, H1Request } from './h1-request.js';

export interface H1PoolOptions {
  /** Endpoint IP address (IPv6 without brackets) and port. */
  readonly host: string;
  readonly port: number;
  /** TLS origination with node:tls options in `connect`. */
  readonly tls: boolean;
  /** node:tls / TCP keepalive options, or a connector function (HBONE tunnels); undefined: plain TCP. */
  readonly connect: H1Connect | undefined;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Connections at most; beyond that requests wait in the queue. Undefined: unlimited. */
  readonly maxConnections: number | undefined;
  /** Requests per connection at most (0: unlimited; 1 disables keep-alive). */
  readonly maxRequestsPerConnection: number;
}

/** The counters undici's Pool.stats has, for the registry's metrics and the pending-requests limit. */
export interface H1PoolStats {
  readonly connected: number;
  readonly free: number;
  readonly pending: number;
  readonly running: number;
  readonly size: number;
}

type PoolState = 'open' | 'closing' | 'destroyed';

/**
 * A connection idle longer than this is checked before reuse: one turn of the event loop lets a FIN or RST the
 * server sent meanwhile (its idle timeout) be read first, so the request is not written into a closing
 * connection (undici checks every reuse this way; a connection reused within a second cannot have hit any
 * server's idle timeout, so busy connections skip the extra turn).
 */
const STALE_CHECK_AFTER_MS = 1000;

export class H1Pool implements H1ConnectionSource, H1ConnectionOwner {
  /** Host sent when the request has none (as undici: the endpoint's address and port). */
  readonly defaultHost: string;
  readonly #target: DialTarget;
  readonly #limits: H1ConnectionLimits;
  readonly #max: number;
  readonly #conns = new Set<H1Connection>();
  /** Idle connections; the last one is the most recently used. */
  readonly #idle: H1Connection[] = [];
  #connecting = 0;
  #queue: H1Request[] = [];
  #state: PoolState = 'open';
  #closed: Array<() => void> = [];

  constructor(options: H1PoolOptions) {
    const hostPart = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.defaultHost = `${hostPart}:${options.port}`;
    this.#target = { host: options.host, port: options.port, tls: options.tls, connect: options.connect, connectTimeoutMs: options.connectTimeoutMs };
    this.#limits = { idleTimeoutMs: options.idleTimeoutMs, maxRequestsPerConnection: Math.max(0, options.maxRequestsPerConnection) };
    this.#max = options.maxConnections === undefined || options.maxConnections <= 0 ? Infinity : options.maxConnections;
  }

  dispatch(opts: H1DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    new H1Request(this, opts, handler).start();
    return true;
  }

  get stats(): H1PoolStats {
    let connected = 0;
    let running = 0;
    for (const c of this.#conns) {
      if (c.state === 'busy') {
        connected++;
        running++;
      } else if (c.state === 'idle') connected++;
    }
    const pending = this.#queue.length;
    return { connected, free: this.#idle.length, pending, running, size: pending + running };
  }

  /** Idle connections (stats.free without counting the rest). */
  get free(): number {
    return this.#idle.length;
  }

  /** Requests waiting for a connection (stats.pending). */
  get pending(): number {
    return this.#queue.length;
  }

  // ---- H1ConnectionSource ----

  acquire(req: H1Request): void {
    if (this.#state === 'destroyed') return req.fail(h1Error('upstream pool destroyed', POOL_DESTROYED));
    if (this.#state === 'closing') return req.fail(h1Error('upstream pool closed', POOL_CLOSED));
    const conn = this.#idle.pop();
    if (conn === undefined) {
      this.#queue.push(req);
      this.#grow();
      return;
    }
    if (performance.now() - conn.idleSince < STALE_CHECK_AFTER_MS) {
      req.attach(conn);
      return;
    }
    setImmediate(() => this.#afterStaleCheck(conn, req));
  }

  #afterStaleCheck(conn: H1Connection, req: H1Request): void {
    if (!conn.alive) {
      // Closed by the server while idle: the request waits for another connection.
      if (req.waiting) this.acquire(req);
      return;
    }
    if (!req.waiting || !req.attach(conn)) this.onAvailable(conn);
  }

  cancel(req: H1Request): void {
    const i = this.#queue.indexOf(req);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  // ---- H1ConnectionOwner ----

  onAvailable(conn: H1Connection): void {
    if (conn.state === 'connecting') {
      this.#connecting--;
      conn.state = 'idle';
    }
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) if (next.attach(conn)) return;
    if (this.#state !== 'open') return conn.destroy();
    conn.park();
    this.#idle.push(conn);
  }

  onGone(conn: H1Connection, connectError: Error | undefined): void {
    if (!this.#conns.delete(conn)) return;
    if (!conn.connected) this.#connecting--;
    const i = this.#idle.lastIndexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    // A connection that could not be made fails the request it was opened for (undici fails a client's
    // pending requests with its connect error); the others get connections of their own.
    if (connectError !== undefined && this.#queue.length > this.#connecting) this.#queue.shift()?.fail(connectError);
    if (this.#state === 'open' || this.#queue.length > 0) this.#grow();
    this.#checkClosed();
  }

  // ---- lifecycle ----

  /** Graceful: queued and running requests finish, then every connection closes. */
  close(): Promise<void> {
    if (this.#state === 'open') this.#state = 'closing';
    for (const c of this.#idle.splice(0)) c.destroy();
    return this.#whenClosed();
  }

  /** Fails everything queued or running and closes every connection now. */
  destroy(): Promise<void> {
    this.#state = 'destroyed';
    const err = h1Error('upstream pool destroyed', POOL_DESTROYED);
    const queue = this.#queue;
    this.#queue = [];
    for (const r of queue) r.fail(err);
    this.#idle.length = 0;
    for (const c of [...this.#conns]) c.fail(err);
    return this.#whenClosed();
  }

  /** Opens connections while the queue is longer than what is being connected, up to maxConnections. */
  #grow(): void {
    if (this.#state === 'destroyed') return;
    while (this.#queue.length > this.#connecting && this.#conns.size < this.#max) {
      this.#connecting++;
      const conn = new H1Connection(this, this.#limits);
      this.#conns.add(conn);
      conn.open(this.#target);
    }
  }

  #whenClosed(): Promise<void> {
    if (this.#conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#closed.push(resolve));
  }

  #checkClosed(): void {
    if (this.#state === 'open' || this.#conns.size > 0 || this.#closed.length === 0) return;
    const waiters = this.#closed;
    this.#closed = [];
    for (const w of waiters) w();
  }
}
