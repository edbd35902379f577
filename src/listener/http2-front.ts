// The HTTP/2 front end: cleartext HTTP/2 with prior knowledge on connections the handler detected as
// such, one node:http2 session per connection, each stream fed to the same HttpProxy.handle as HTTP/1.1.
// Limits follow RFC 9113 and Envoy's defaults; violations reset the stream or the connection.
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { ConnectionContext, ConnectionTable } from '../proxy/connection-context.js';
import type { DownstreamRequest, DownstreamResponse } from './http2-downstream.js';

export type RequestHandler = (req: DownstreamRequest, res: DownstreamResponse) => void;

export interface Http2FrontOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients; streams beyond are refused (RFC 9113 §5.1.2). */
  readonly maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE; a larger header block resets the stream. */
  readonly maxHeaderListBytes: number;
}

/** Envoy's max_request_headers_kb (60 KiB); the stream limit bounds memory per connection. */
export const DEFAULT_HTTP2_FRONT_OPTIONS: Http2FrontOptions = { maxConcurrentStreams: 1024, maxHeaderListBytes: 60 * 1024 };

const IDLE_TIMEOUT_MS = 3_600_000;

export class Http2Front {
  readonly #server: http2.Http2Server;
  readonly #connections: ConnectionTable;
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  /** Context of the connection being handed to the server; its 'session' event fires synchronously. */
  #accepting: ConnectionContext | undefined = undefined;
  #draining = false;
  readonly #handle: RequestHandler;
  readonly #maxHeaderListBytes: number;

  constructor(connections: ConnectionTable, handle: RequestHandler, options: Http2FrontOptions = DEFAULT_HTTP2_FRONT_OPTIONS) {
    this.#connections = connections;
    this.#handle = handle;
    this.#maxHeaderListBytes = options.maxHeaderListBytes;
    this.#server = http2.createServer({
      settings: {
        enablePush: false,
        maxConcurrentStreams: options.maxConcurrentStreams,
        maxHeaderListSize: options.maxHeaderListBytes,
      },
      maxHeaderListPairs: 128,
      // Buffered, unacknowledged data per session (MB); beyond it the session is torn down with
      // ENHANCE_YOUR_CALM, so a peer that never reads cannot grow memory without bound.
      maxSessionMemory: 32,
      // Too many refused streams or invalid frames (rapid reset, stream floods) end the session.
      maxSessionRejectedStreams: 100,
      maxSessionInvalidFrames: 1000,
    }, this.#onRequest);
    this.#server.on('session', this.#onSession);
    // Errors of one session or stream are handled there; nothing must escape as an uncaught error.
    this.#server.on('sessionError', () => undefined);
  }

  /** Runs HTTP/2 on `stream`, whose first bytes (the connection preface) may have been unshifted back. */
  accept(stream: Duplex, ctx: ConnectionContext): void {
    this.#accepting = ctx;
    try {
      this.#server.emit('connection', stream);
    } finally {
      this.#accepting = undefined;
    }
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Draining: every session gets GOAWAY (no new streams); streams in flight finish. */
  drain(): void {
    this.#draining = true;
    for (const s of this.#sessions) s.close();
  }

  /**
   * The advertised SETTINGS_MAX_HEADER_LIST_SIZE only binds once the client acknowledged it, and node does
   * not enforce it on received header blocks, so it is checked here: an oversized request is reset
   * (ENHANCE_YOUR_CALM, as nghttp2 does for its own limits) without touching the other streams.
   */
  readonly #onRequest = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    const raw = req.rawHeaders;
    // RFC 9113 §6.5.2: "the uncompressed size of field lines ... plus an overhead of 32 octets for each".
    let size = 0;
    for (let i = 0; i < raw.length; i += 2) size += (raw[i] as string).length + (raw[i + 1] as string).length + 32;
    if (size > this.#maxHeaderListBytes) {
      if (!req.stream.destroyed) req.stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      return;
    }
    this.#handle(req, res);
  };

  readonly #onSession = (session: http2.ServerHttp2Session): void => {
    const ctx = this.#accepting;
    if (ctx === undefined) return void session.destroy();
    this.#connections.alias(session, ctx);
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
    session.on('error', () => undefined);
    // Envoy's default idle_timeout (1 h): also ends sessions node leaves open after a connection error.
    session.setTimeout(IDLE_TIMEOUT_MS, () => session.destroy());
    session.on('stream', (stream: http2.ServerHttp2Stream) => stream.on('error', () => undefined));
    if (this.#draining) session.close();
  };
}
