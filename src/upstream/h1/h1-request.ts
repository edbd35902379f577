// One request on the HTTP/1.1 pool, driving an undici-style DispatchHandler (new-style callbacks): writes the head
// in one write (with a small body in the same writev), pumps a stream body with backpressure (Content-Length or
// chunked), relays the response, and is the DispatchController (pause, resume, abort) the handler gets.
import type { Duplex, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { H1Connection } from './h1-connection.js';
import type { H1Headers } from './h1-response-parser.js';
import { type H1RequestHeaders, headText, type RequestHead, requestHead } from './h1-request-head.js';

export interface H1DispatchOptions {
  readonly path: string;
  readonly method: string;
  readonly headers?: H1RequestHeaders | null | undefined;
  readonly body?: Readable | Buffer | Uint8Array | string | null | undefined;
  /** Protocol of an upgrade request (`websocket`): the connection is handed to onRequestUpgrade on 101. */
  readonly upgrade?: string | null | undefined;
}

/** Where a request gets (or gets again) a connection. */
export interface H1ConnectionSource {
  acquire(req: H1Request): void;
  cancel(req: H1Request): void;
  readonly defaultHost: string;
}

type Phase = 'queued' | 'sent' | 'response' | 'done';

/** Listeners on a stream body, created only for requests that have one (a bodiless request allocates none). */
interface BodyListeners {
  readonly data: (chunk: Buffer | string) => void;
  readonly end: () => void;
  readonly error: (err: Error) => void;
  readonly drain: () => void;
}

const NO_HEADERS: ReadonlyArray<string> = [];
/** Bodies up to this size go out in the same writev as the head. */
const COALESCE_BYTES = 64 * 1024;

export class H1Request implements Dispatcher.DispatchController {
  readonly #source: H1ConnectionSource;
  readonly #opts: H1DispatchOptions;
  readonly #handler: Dispatcher.DispatchHandler;
  #phase: Phase = 'queued';
  #conn: H1Connection | undefined = undefined;
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;
  #head: RequestHead | undefined = undefined;
  /** The body when it is bytes (sent with the head, and again on a retry). */
  #bytes: Buffer | undefined = undefined;
  // ---- request body stream ----
  #sent = 0;
  #written = false;
  #bodyListening = false;
  #listeners: BodyListeners | undefined = undefined;

  constructor(source: H1ConnectionSource, opts: H1DispatchOptions, handler: Dispatcher.DispatchHandler) {
    this.#source = source;
    this.#opts = opts;
    this.#handler = handler;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  /** The request (head and body) is all on the wire. */
  get written(): boolean {
    return this.#written;
  }

  /** Still waiting for a connection (not sent, not aborted). */
  get waiting(): boolean {
    return this.#phase === 'queued';
  }

  start(): void {
    this.#handler.onRequestStart?.(this, {});
    if (this.#phase === 'done') return;
    const opts = this.#opts;
    const body = opts.body ?? null;
    let length: number | undefined;
    if (body === null) length = 0;
    else if (typeof body === 'string') this.#bytes = Buffer.from(body);
    else if (body instanceof Uint8Array) this.#bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (this.#bytes !== undefined) length = this.#bytes.length;
    try {
      this.#head = requestHead(opts.method, opts.path, opts.headers ?? NO_HEADERS, this.#source.defaultHost, length, opts.upgrade ?? undefined);
    } catch (err) {
      // Refused before anything is sent, as undici refuses such a request when it is dispatched.
      return this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    this.#source.acquire(this);
  }

  /** Called by the pool with a connection that is free for this request; false when it no longer wants one. */
  attach(conn: H1Connection): boolean {
    const head = this.#head;
    if (this.#phase !== 'queued' || head === undefined) return false;
    const opts = this.#opts;
    const body = opts.body ?? null;
    this.#conn = conn;
    this.#phase = 'sent';
    this.#sent = 0;
    this.#written = false;
    const text = headText(head, conn.lastRequest);
    conn.begin(this, opts.method === 'HEAD', opts.upgrade !== undefined && opts.upgrade !== null);
    if (head.close) conn.noReuse();
    const socket = conn.socket;
    const bytes = this.#bytes;
    if (body === null || head.framing === 'none') {
      socket.write(text, 'latin1');
      this.#written = true;
      // A stream the framing says is empty (Content-Length: 0) is read and dropped so its source can finish.
      if (body !== null && bytes === undefined) (body as Readable).resume();
      return true;
    }
    if (bytes === undefined) {
      socket.write(text, 'latin1');
      this.#sendStream(body as Readable);
      return true;
    }
    // Head and a small body in one writev; a large one follows it (the kernel splits it anyway).
    const small = bytes.length <= COALESCE_BYTES;
    if (small) socket.cork();
    socket.write(text, 'latin1');
    socket.write(bytes);
    if (small) socket.uncork();
    this.#written = true;
    return true;
  }

  /** Fails before the request was sent (closed pool, connect error, a head that cannot be written). */
  fail(err: Error): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    this.#stopBody();
    this.#handler.onResponseError?.(this, err);
  }

  // ---- DispatchController ----

  abort(reason: Error): void {
    if (this.#phase === 'done') return;
    this.#aborted = true;
    this.#reason = reason;
    if (this.#phase === 'queued') this.#source.cancel(this);
    this.#phase = 'done';
    this.#stopBody();
    // A request cut off mid-exchange leaves the connection in an unknown state: it is closed, never reused.
    this.#conn?.destroy();
    this.#handler.onResponseError?.(this, reason);
  }

  pause(): void {
    this.#paused = true;
    if (this.#phase === 'sent' || this.#phase === 'response') this.#conn?.pauseReading();
  }

  resume(): void {
    this.#paused = false;
    // After the response ended the connection may carry another request: it is no longer this one's to resume.
    if (this.#phase === 'sent' || this.#phase === 'response') this.#conn?.resumeReading();
  }

  // ---- from the connection ----

  onHead(status: number, statusText: string, headers: H1Headers): void {
    if (this.#phase !== 'sent') return;
    this.#phase = 'response';
    this.#handler.onResponseStart?.(this, status, headers, statusText);
  }

  onBody(chunk: Buffer): boolean {
    if (this.#phase !== 'response') return false;
    this.#handler.onResponseData?.(this, chunk);
    return !this.#paused && this.#phase === 'response';
  }

  onEnd(trailers: H1Headers): void {
    if (this.#phase !== 'response') return;
    this.#phase = 'done';
    // The response is complete; a request body still being sent is no longer wanted.
    if (!this.#written) this.#stopBody();
    this.#handler.onResponseEnd?.(this, trailers);
  }

  onUpgrade(status: number, headers: H1Headers, socket: Duplex): void {
    if (this.#phase !== 'sent') {
      socket.destroy();
      return;
    }
    this.#phase = 'done';
    this.#stopBody();
    const handler = this.#handler;
    if (handler.onRequestUpgrade === undefined) {
      socket.destroy();
      return;
    }
    handler.onRequestUpgrade(this, status, headers, socket);
  }

  /**
   * The connection failed under this request. Not retried here, even on a reused connection before any response
   * byte: the server may have processed it, and Envoy leaves such resets to the route's retry policy (`reset`
   * is not in Istio's default retry-on). Stale idle connections are caught before reuse instead (H1Pool).
   */
  onConnectionFailed(err: Error): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    this.#conn = undefined;
    this.#stopBody();
    this.#handler.onResponseError?.(this, err);
  }

  // ---- request body stream ----

  #sendStream(body: Readable): void {
    if (!this.#bodyListening) {
      this.#bodyListening = true;
      const l = (this.#listeners ??= {
        data: (chunk) => this.#onBodyData(chunk),
        end: () => this.#onBodyEnd(),
        error: (err) => this.abort(err),
        drain: () => this.#onSocketDrain(),
      });
      body.on('data', l.data);
      body.once('end', l.end);
      body.once('error', l.error);
    }
    body.resume();
  }

  #onBodyData(chunk: Buffer | string): void {
    const conn = this.#conn;
    if ((this.#phase !== 'sent' && this.#phase !== 'response') || conn === undefined) return;
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (data.length === 0) return;
    const socket = conn.socket;
    let ok: boolean;
    const head = this.#head as RequestHead;
    if (head.framing === 'chunked') {
      socket.cork();
      socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
      socket.write(data);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      const room = head.length - this.#sent;
      if (data.length > room) {
        // More than Content-Length announced: the excess would be read as another request. Cut it, and close
        // the connection after this exchange.
        conn.noReuse();
        if (room <= 0) return;
        data = data.subarray(0, room);
      }
      ok = socket.write(data);
    }
    this.#sent += data.length;
    if (!ok && this.#listeners !== undefined) {
      (this.#opts.body as Readable).pause();
      socket.once('drain', this.#listeners.drain);
    }
  }

  #onSocketDrain(): void {
    if (this.#phase === 'sent' || this.#phase === 'response') (this.#opts.body as Readable).resume();
  }

  #onBodyEnd(): void {
    const conn = this.#conn;
    this.#stopBody();
    if (conn === undefined || (this.#phase !== 'sent' && this.#phase !== 'response')) return;
    const head = this.#head as RequestHead;
    if (head.framing === 'chunked') conn.socket.write('0\r\n\r\n', 'latin1');
    else if (this.#sent < head.length) {
      // Fewer bytes than announced: the server waits for the rest; this connection can carry nothing else.
      conn.noReuse();
    }
    this.#written = true;
    conn.requestWritten();
  }

  #stopBody(): void {
    const body = this.#opts.body;
    const l = this.#listeners;
    if (!this.#bodyListening || l === undefined || body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) return;
    this.#bodyListening = false;
    body.off('data', l.data);
    body.off('end', l.end);
    body.off('error', l.error);
  }
}
