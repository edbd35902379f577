// One request on an HTTP/2 upstream pool, driving an undici-style DispatchHandler: the request body is
// pumped with backpressure, the response streamed back with trailers, and a stream the peer provably did
// not process (REFUSED_STREAM, or above a GOAWAY's last stream id) is retried on another connection.
import http2 from 'node:http2';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { H2Connection } from './h2-connection.js';
import { fromH2Headers, h2RequestHeaders, statusOf } from './h2-headers.js';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_PROTOCOL_ERROR, NGHTTP2_NO_ERROR, NGHTTP2_FLAG_END_STREAM } = http2.constants;

export interface H2DispatchOptions {
  readonly path: string;
  readonly method: string;
  /** Flat [name, value, ...] list as the exchange builds it (HTTP/1 names, `host` first). */
  readonly headers: ReadonlyArray<string>;
  readonly body: Readable | null;
  /**
   * Request trailers to send after the body (HTTP/2 carries them; a filter with a request-trailers phase
   * may have edited them). Read when the body has ended; absent for requests that never forward trailers.
   */
  readonly trailers?: RequestTrailerSource | undefined;
}

export interface RequestTrailerSource {
  /** Flat [name, value, ...] list, or undefined when the request had none. */
  requestTrailers(): ReadonlyArray<string> | undefined;
}

/** Where a request gets (or gets again) a connection with a free stream. */
export interface H2StreamSource {
  acquire(req: H2Request, exclude: H2Connection | undefined): void;
  cancel(req: H2Request): void;
}

/** Request body bytes kept to replay a refused stream; beyond this the request is no longer retried. */
const REPLAY_LIMIT = 64 * 1024;
/** Envoy's default retry policy retries refused streams twice. */
const MAX_ATTEMPTS = 3;

/** An upstream failure with the code classifyUpstreamError understands and the HTTP/2 reset code, if any. */
export interface H2UpstreamError extends Error {
  code: string;
  h2Code: number | undefined;
}

export function h2Error(message: string, code: string, h2Code: number | undefined): H2UpstreamError {
  return Object.assign(new Error(message), { code, h2Code });
}

type Phase = 'waiting' | 'sent' | 'response' | 'done';

export class H2Request implements Dispatcher.DispatchController {
  readonly #source: H2StreamSource;
  readonly #opts: H2DispatchOptions;
  readonly #handler: Dispatcher.DispatchHandler;
  #phase: Phase = 'waiting';
  #conn: H2Connection | undefined = undefined;
  #stream: http2.ClientHttp2Stream | undefined = undefined;
  #streamError: Error | undefined = undefined;
  #attempts = 0;
  #replay: Buffer[] | null = [];
  #replayBytes = 0;
  #bodyEnded = false;
  #bodyListening = false;
  #trailers: http2.IncomingHttpHeaders | undefined = undefined;
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;

  constructor(source: H2StreamSource, opts: H2DispatchOptions, handler: Dispatcher.DispatchHandler) {
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

  start(): void {
    this.#handler.onRequestStart?.(this, {});
    if (this.#phase === 'done') return;
    this.#source.acquire(this, undefined);
  }

  /** Called by the pool with a connection that has a free stream. */
  attach(conn: H2Connection): void {
    if (this.#phase !== 'waiting') return;
    const session = conn.session;
    if (session.closed || session.destroyed) return this.#source.acquire(this, conn);
    this.#attempts++;
    this.#conn = conn;
    this.#streamError = undefined;
    const opts = this.#opts;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = opts.trailers === undefined || opts.body === null
        ? session.request(h2RequestHeaders(opts.method, opts.path, opts.headers), { endStream: opts.body === null })
        : session.request(h2RequestHeaders(opts.method, opts.path, opts.headers), { endStream: false, waitForTrailers: true });
    } catch (err) {
      this.#conn = undefined;
      return this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    conn.streamOpened();
    this.#stream = stream;
    this.#phase = 'sent';
    stream.on('response', this.#onResponse);
    stream.on('trailers', this.#onTrailers);
    if (opts.trailers !== undefined && opts.body !== null) stream.once('wantTrailers', this.#onWantTrailers);
    // 'data' is listened to only once the response headers are in (#onResponse): node:http2 emits
    // 'response' on the next tick, and over a Duplex that is not a socket (an HBONE tunnel stream) the
    // first DATA frame of the same read can be emitted before it; read earlier, it would be dropped.
    stream.once('end', this.#onEnd);
    stream.on('error', this.#onStreamError);
    stream.once('close', this.#onClose);
    if (this.#paused) stream.pause();
    if (opts.body !== null) this.#sendBody(stream, opts.body);
  }

  /** Fails before any stream could be opened (connect error, overflow, pool closed). */
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
    if (this.#phase === 'waiting') this.#source.cancel(this);
    this.#phase = 'done';
    this.#stopBody();
    // RST_STREAM(CANCEL): "indicates that the stream is no longer needed" (RFC 9113 §7).
    this.#stream?.close(NGHTTP2_CANCEL);
    this.#handler.onResponseError?.(this, reason);
  }

  pause(): void {
    this.#paused = true;
    this.#stream?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#stream?.resume();
  }

  // ---- request body ----

  #sendBody(stream: http2.ClientHttp2Stream, body: Readable): void {
    // A retry first replays what the refused stream already carried.
    if (this.#replay !== null) for (const chunk of this.#replay) stream.write(chunk);
    if (this.#bodyEnded) {
      stream.end();
      return;
    }
    if (!this.#bodyListening) {
      this.#bodyListening = true;
      body.on('data', this.#onBodyData);
      body.once('end', this.#onBodyEnd);
      body.once('error', this.#onBodyError);
    }
    body.resume();
  }

  readonly #onBodyData = (chunk: Buffer): void => {
    const stream = this.#stream;
    if (this.#phase === 'done' || stream === undefined) return;
    if (this.#replay !== null) {
      this.#replay.push(chunk);
      this.#replayBytes += chunk.length;
      if (this.#replayBytes > REPLAY_LIMIT) this.#replay = null;
    }
    if (!stream.write(chunk)) {
      this.#opts.body?.pause();
      stream.once('drain', this.#onStreamDrain);
    }
  };

  readonly #onStreamDrain = (): void => {
    if (this.#phase === 'sent' || this.#phase === 'response') this.#opts.body?.resume();
  };

  readonly #onBodyEnd = (): void => {
    this.#bodyEnded = true;
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed && (this.#phase === 'sent' || this.#phase === 'response')) stream.end();
  };

  /** The body's last DATA frame is queued: trailers end the stream (none: node ends it with an empty DATA frame). */
  readonly #onWantTrailers = (): void => {
    const stream = this.#stream;
    if (stream === undefined || stream.closed) return;
    const fields = this.#opts.trailers?.requestTrailers();
    const out: Record<string, string | string[]> = {};
    if (fields !== undefined) for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = (fields[i] as string).toLowerCase();
      const value = fields[i + 1] as string;
      // Pseudo-headers and connection-specific fields are not allowed in trailers (RFC 9113 §8.1, §8.2.2).
      if (name.charCodeAt(0) === 0x3a || name === 'connection' || name === 'transfer-encoding') continue;
      const prev = out[name];
      out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    stream.sendTrailers(out);
  };

  readonly #onBodyError = (err: Error): void => {
    this.abort(err);
  };

  #stopBody(): void {
    const body = this.#opts.body;
    if (body === null || !this.#bodyListening) return;
    this.#bodyListening = false;
    body.off('data', this.#onBodyData);
    body.off('end', this.#onBodyEnd);
    body.off('error', this.#onBodyError);
  }

  // ---- response ----

  readonly #onResponse = (headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number): void => {
    if (this.#phase !== 'sent') return;
    this.#phase = 'response';
    this.#replay = null;
    this.#handler.onResponseStart?.(this, statusOf(headers), fromH2Headers(headers), '');
    this.#stream?.on('data', this.#onData);
    // A HEADERS frame that ends the stream is the whole response (gRPC "Trailers-Only").
    if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) this.#onEnd();
  };

  readonly #onTrailers = (trailers: http2.IncomingHttpHeaders): void => {
    this.#trailers = trailers;
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#phase === 'response') this.#handler.onResponseData?.(this, chunk);
  };

  readonly #onEnd = (): void => {
    if (this.#phase !== 'response') return;
    this.#phase = 'done';
    this.#stopBody();
    const stream = this.#stream;
    // The response is complete; a request body still being sent is no longer wanted (RFC 9113 §8.1).
    if (stream !== undefined && !stream.closed && !this.#bodyEnded && this.#opts.body !== null) stream.close(NGHTTP2_CANCEL);
    this.#handler.onResponseEnd?.(this, this.#trailers === undefined ? {} : fromH2Headers(this.#trailers));
  };

  readonly #onStreamError = (err: Error): void => {
    this.#streamError = err;
  };

  readonly #onClose = (): void => {
    const stream = this.#stream;
    const conn = this.#conn;
    conn?.streamClosed();
    if (stream === undefined || conn === undefined) return;
    if (this.#phase === 'done') return;
    const code = stream.rstCode ?? NGHTTP2_NO_ERROR;
    // Refused (explicitly, or implicitly by GOAWAY: nghttp2 closes those streams as REFUSED_STREAM):
    // "the stream was not processed" (RFC 9113 §8.7), so it is safe to send again.
    if (this.#phase === 'sent' && code === NGHTTP2_REFUSED_STREAM && this.#replay !== null && this.#attempts < MAX_ATTEMPTS) {
      this.#phase = 'waiting';
      this.#stream = undefined;
      this.#conn = undefined;
      this.#source.acquire(this, conn);
      return;
    }
    this.#phase = 'done';
    this.#stopBody();
    this.#handler.onResponseError?.(this, this.#closeError(code, conn));
  };

  #closeError(code: number, conn: H2Connection): H2UpstreamError {
    // A connection that failed (error, PING timeout) resets its streams locally: report why it failed.
    if (conn.state === 'closed' && conn.failure !== undefined && code !== NGHTTP2_REFUSED_STREAM) return this.#connectionError(conn.failure);
    if (code === NGHTTP2_REFUSED_STREAM) return h2Error('upstream refused the stream', 'H2_REFUSED_STREAM', code);
    if (code === NGHTTP2_PROTOCOL_ERROR) return h2Error('upstream protocol error', 'UND_ERR_INFO', code);
    if (code !== NGHTTP2_NO_ERROR) return h2Error(`upstream reset the stream (code ${code})`, 'ECONNRESET', code);
    // No stream-level code: the connection went away under the stream.
    return this.#connectionError(conn.failure ?? this.#streamError);
  }

  #connectionError(cause: Error | undefined): H2UpstreamError {
    const causeCode = cause !== undefined ? (cause as { code?: unknown }).code : undefined;
    const known = typeof causeCode === 'string' && !causeCode.startsWith('ERR_HTTP2') ? causeCode : 'EPIPE';
    return h2Error(cause?.message ?? 'upstream connection closed', known, undefined);
  }
}
