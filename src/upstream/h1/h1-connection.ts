// One pooled HTTP/1.1 connection: dials its endpoint, carries one request at a time (no pipelining, as Envoy's
// HTTP/1.1 codec), parses the response into the request's handler, and goes back to the pool when the response
// allows reuse (keep-alive, complete request, under maxRequestsPerConnection), else closes.
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { dial, type DialTarget } from './h1-dial.js';
import { h1Error, SOCKET_CLOSED } from './h1-errors.js';
import { type H1Headers, H1ResponseParser, type H1ResponseSink } from './h1-response-parser.js';
import type { H1Request } from './h1-request.js';

/** What a connection tells its pool. */
export interface H1ConnectionOwner {
  /** Connected, or done with a response and reusable: give it the next request or keep it idle. */
  onAvailable(conn: H1Connection): void;
  /** Closed; `connectError` when it never connected. */
  onGone(conn: H1Connection, connectError: Error | undefined): void;
}

export interface H1ConnectionLimits {
  readonly idleTimeoutMs: number;
  /** Requests a connection carries at most (0: unlimited). */
  readonly maxRequestsPerConnection: number;
}

export type H1ConnectionState = 'connecting' | 'idle' | 'busy' | 'closed';

/** undici's keepAliveTimeoutThreshold: a server's `Keep-Alive: timeout` is trusted minus this margin. */
const KEEPALIVE_MARGIN_MS = 2000;

export class H1Connection implements H1ResponseSink {
  state: H1ConnectionState = 'connecting';
  /** Requests started on this connection. */
  requests = 0;
  readonly #owner: H1ConnectionOwner;
  readonly #limits: H1ConnectionLimits;
  readonly #parser: H1ResponseParser = new H1ResponseParser(this);
  #socket: Duplex | undefined = undefined;
  /** net/tls sockets can be unref'd while idle (tunnel streams cannot). */
  #refable = false;
  #req: H1Request | undefined = undefined;
  /** The request whose body is being written (kept past the response's end until it is all out). */
  #writer: H1Request | undefined = undefined;
  #gone = false;
  #error: Error | undefined = undefined;
  #reusable = true;
  #inFeed = false;
  #socketPaused = false;
  /** Bytes parsed past a pause, fed again on resume. */
  #stash: Buffer | undefined = undefined;
  #upgradeHead: { status: number; headers: H1Headers } | undefined = undefined;
  #idleMs: number;
  #idleSince = 0;
  #idleTimer: NodeJS.Timeout | undefined = undefined;

  constructor(owner: H1ConnectionOwner, limits: H1ConnectionLimits) {
    this.#owner = owner;
    this.#limits = limits;
    this.#idleMs = limits.idleTimeoutMs;
  }

  /** Dials the endpoint; the owner hears back through onAvailable or onGone (possibly before this returns). */
  open(target: DialTarget): void {
    dial(target, this.#onDial);
  }

  /** The dial succeeded (the socket may have closed since). */
  get connected(): boolean {
    return this.#socket !== undefined;
  }

  get socket(): Duplex {
    return this.#socket as Duplex;
  }

  /** When it last became idle (performance.now()). */
  get idleSince(): number {
    return this.#idleSince;
  }

  /** Idle and not closed, nor closing (its socket may be destroyed before 'close' is emitted). */
  get alive(): boolean {
    return this.state === 'idle' && this.#socket !== undefined && !this.#socket.destroyed;
  }

  /** The next request is the last this connection may carry (maxRequestsPerConnection): it says `close`. */
  get lastRequest(): boolean {
    const max = this.#limits.maxRequestsPerConnection;
    return max > 0 && this.requests + 1 >= max;
  }

  /** Takes a request: the caller writes its head and body to `socket` next. */
  begin(req: H1Request, noBody: boolean, upgrade: boolean): void {
    this.state = 'busy';
    this.requests++;
    this.#req = req;
    this.#writer = req;
    this.#reusable = true;
    this.#parser.reset(noBody, upgrade);
    if (this.#refable) (this.#socket as unknown as { ref(): void }).ref();
  }

  /** The request asked to close after it, or its body could not be framed right. */
  noReuse(): void {
    this.#reusable = false;
  }

  /** The request's body is fully written: if the response is already complete, the connection is free. */
  requestWritten(): void {
    if (this.state === 'busy' && this.#req === undefined) this.#release();
  }

  pauseReading(): void {
    if (this.#inFeed || this.#socketPaused || this.#socket === undefined) return;
    this.#socketPaused = true;
    this.#socket.pause();
  }

  resumeReading(): void {
    // Inside the parse loop, the sink's return value already tells the parser to go on.
    if (this.#inFeed || this.#socket === undefined) return;
    const stash = this.#stash;
    this.#stash = undefined;
    if (stash !== undefined) this.#feed(stash);
    if (this.#socketPaused && this.#req !== undefined && this.#req.paused === false) {
      this.#socketPaused = false;
      this.#socket.resume();
    }
  }

  /** Closes the connection; a request on it (if any) is not told (the caller ends it). */
  destroy(): void {
    if (this.state === 'closed') return;
    this.#req = undefined;
    this.#writer = undefined;
    this.#parser.halt();
    const connecting = this.state === 'connecting';
    this.state = 'closed';
    this.#clearIdle();
    this.#socket?.destroy();
    // A connection still dialling reports itself gone once the dial settles (#onDial).
    if (!connecting) this.#goneOnce(undefined);
  }

  #goneOnce(connectError: Error | undefined): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#owner.onGone(this, connectError);
  }

  // ---- H1ResponseSink ----

  onHead(status: number, statusText: string, headers: H1Headers): void {
    const req = this.#req;
    if (req === undefined) return;
    if (status === 101) {
      this.#upgradeHead = { status, headers };
      return;
    }
    const hint = this.#parser.keepAliveTimeoutMs;
    if (hint >= 0) {
      const ms = Math.min(hint - KEEPALIVE_MARGIN_MS, this.#limits.idleTimeoutMs);
      if (ms <= 0) this.#reusable = false;
      else this.#idleMs = ms;
    }
    req.onHead(status, statusText, headers);
  }

  onBody(chunk: Buffer): boolean {
    const req = this.#req;
    if (req === undefined) return false;
    return req.onBody(chunk);
  }

  onEnd(trailers: H1Headers): void {
    const req = this.#req;
    if (req === undefined) return;
    this.#req = undefined;
    if (!this.#parser.keepAlive) this.#reusable = false;
    req.onEnd(trailers);
  }

  // ---- socket events ----

  readonly #onDial = (err: Error | null, socket: Duplex | null): void => {
    if (this.state === 'closed') {
      // Destroyed (pool closed) while connecting.
      socket?.destroy();
      this.#goneOnce(undefined);
      return;
    }
    if (err !== null || socket === null) {
      this.state = 'closed';
      this.#goneOnce(err ?? new Error('no connection'));
      return;
    }
    this.#socket = socket;
    const s = socket as Partial<{ setNoDelay(v: boolean): void; ref(): void; unref(): void }>;
    if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
    this.#refable = typeof s.ref === 'function' && typeof s.unref === 'function';
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    this.#owner.onAvailable(this);
  };

  readonly #onData = (buf: Buffer): void => {
    if (this.#req === undefined) {
      // Bytes nobody asked for (on an idle connection, or after a complete response): never reuse it.
      if (this.state === 'idle') this.destroy();
      else this.#reusable = false;
      return;
    }
    this.#feed(buf);
  };

  #feed(buf: Buffer): void {
    this.#inFeed = true;
    let rest: Buffer | undefined;
    try {
      rest = this.#parser.execute(buf);
    } catch (err) {
      this.#inFeed = false;
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.#inFeed = false;
    if (this.state === 'closed') return;
    if (this.#upgradeHead !== undefined) return this.#handover(rest);
    const req = this.#req;
    if (req === undefined) {
      // The response is complete (onEnd ran); anything after it in the same read breaks the framing.
      if (rest !== undefined && rest.length > 0) this.#reusable = false;
      this.#release();
      return;
    }
    if (rest !== undefined) this.#stash = rest;
    if (req.paused && !this.#socketPaused) {
      this.#socketPaused = true;
      this.#socket?.pause();
    }
  }

  /** Response complete: back to the pool if the request is fully written and the response allows reuse. */
  #release(): void {
    if (this.state !== 'busy' || this.#req !== undefined) return;
    const writer = this.#writer;
    this.#writer = undefined;
    // A request body still being sent (the server answered early) would have to be sent whole before the
    // connection could carry another request; nobody wants it any more, so the connection closes.
    const max = this.#limits.maxRequestsPerConnection;
    if (writer?.written === false || !this.#reusable || (max > 0 && this.requests >= max)) {
      this.destroy();
      return;
    }
    this.#stash = undefined;
    if (this.#socketPaused) {
      this.#socketPaused = false;
      this.#socket?.resume();
    }
    this.state = 'idle';
    this.#owner.onAvailable(this);
  }

  /** No request waits for it: it idles (not holding the process open) until reused or its idle timeout. */
  park(): void {
    this.#idleSince = performance.now();
    if (this.#refable) (this.#socket as unknown as { unref(): void }).unref();
    // Armed once and re-armed lazily when it fires (a busy connection does not pay for a timer per request).
    if (this.#idleTimer === undefined && this.#idleMs > 0) this.#idleTimer = setTimeout(this.#onIdleTimer, this.#idleMs).unref();
  }

  readonly #onIdleTimer = (): void => {
    this.#idleTimer = undefined;
    if (this.state !== 'idle') return;
    const left = this.#idleMs - (performance.now() - this.#idleSince);
    if (left > 1) {
      this.#idleTimer = setTimeout(this.#onIdleTimer, left).unref();
      return;
    }
    // connectionPool.http.idleTimeout: "The idle timeout for upstream connection pool connections".
    this.destroy();
  };

  #clearIdle(): void {
    if (this.#idleTimer === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /**
   * A 101 to an upgrade request: the socket leaves the pool and belongs to the handler from here on, paused, with
   * the bytes that followed the head put back in front (its new owner starts it with pipe() or resume()).
   */
  #handover(rest: Buffer | undefined): void {
    const req = this.#req;
    const head = this.#upgradeHead as { status: number; headers: H1Headers };
    const socket = this.#socket as Duplex;
    this.#upgradeHead = undefined;
    this.#req = undefined;
    this.#writer = undefined;
    this.state = 'closed';
    this.#clearIdle();
    socket.pause();
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    if (rest !== undefined && rest.length > 0) socket.unshift(rest);
    if (this.#refable) (socket as unknown as { ref(): void }).ref();
    this.#goneOnce(undefined);
    if (req === undefined) socket.destroy();
    else req.onUpgrade(head.status, head.headers, socket);
  }

  readonly #onEnd = (): void => {
    // The server closed its side. A body delimited by close ends here; anything else in flight was cut short.
    if (this.#req !== undefined && this.#parser.untilClose) this.#parser.finish();
    this.#socket?.destroy();
  };

  readonly #onError = (err: Error): void => {
    this.#error ??= err;
  };

  readonly #onClose = (): void => {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.#clearIdle();
    const req = this.#req;
    this.#req = undefined;
    if (req !== undefined) {
      const err = this.#error;
      // A body delimited by close may end with a reset rather than a FIN (undici accepts that too).
      const endedByClose = this.#parser.untilClose && (err === undefined || (err as { code?: unknown }).code === 'ECONNRESET');
      if (endedByClose) {
        this.#req = req;
        this.#parser.finish();
        this.#req = undefined;
      } else req.onConnectionFailed(err ?? h1Error('other side closed', SOCKET_CLOSED));
    }
    this.#goneOnce(undefined);
  };

  /** Closes the connection and fails the request on it with `err`. */
  fail(err: Error): void {
    const req = this.#req;
    this.destroy();
    req?.onConnectionFailed(err);
  }
}
