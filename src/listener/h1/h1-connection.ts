// The fast HTTP/1.1 downstream path for one client socket. node:http's server builds two streams, a parser
// state and several timers and events per request; for the common case (a bodiless keep-alive request) this
// reads the head itself (request-head.ts), hands the proxy a light request/response pair, and writes the
// response in one syscall. Anything else (a body, an upgrade, HTTP/1.0, malformed or oversize input) is handed
// to node:http with the unread bytes put back, and node:http serves the connection from then on with its own
// errors (400, 431, ...), so the fast path never has to answer a request it did not fully understand.
import type { Socket } from 'node:net';
import { H1Request } from './h1-request.js';
import { H1Response, type H1ResponseOwner } from './h1-response.js';
import { parseRequestHead } from './request-head.js';

export interface H1ConnectionDeps {
  /** The proxy's request handler (the same one node:http calls). */
  readonly handle: (req: H1Request, res: H1Response) => void;
  /** Gives the socket (unread bytes unshifted, paused) to node:http for the rest of its life. */
  readonly handoff: (socket: Socket) => void;
  readonly maxHeadBytes: number;
  /** Idle keep-alive connections are closed after this long (node:http's keepAliveTimeout). */
  readonly idleTimeoutMs: number;
}

/** Pipelined bytes kept while a response is in flight before the socket stops being read. */
const PIPELINE_BUFFER_LIMIT = 64 * 1024;

export class H1Connection implements H1ResponseOwner {
  readonly socket: Socket;
  readonly #deps: H1ConnectionDeps;
  #buffered: Buffer | undefined = undefined;
  #current: H1Response | undefined = undefined;
  #parsing = false;
  #gone = false;

  constructor(socket: Socket, deps: H1ConnectionDeps) {
    this.socket = socket;
    this.#deps = deps;
    socket.on('data', this.#onData);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
    socket.on('timeout', this.#onTimeout);
    socket.on('end', this.#onEnd);
    socket.setTimeout(deps.idleTimeoutMs);
  }

  readonly #onData = (chunk: Buffer): void => {
    const prev = this.#buffered;
    this.#buffered = prev === undefined ? chunk : Buffer.concat([prev, chunk]);
    if (this.#current !== undefined) {
      if (this.#buffered.length > PIPELINE_BUFFER_LIMIT) this.socket.pause();
      return;
    }
    this.#next();
  };

  /** Serves buffered requests one at a time (HTTP/1.1 responses go out in request order). */
  #next(): void {
    if (this.#parsing) return;
    this.#parsing = true;
    try {
      while (this.#current === undefined && this.#buffered !== undefined && !this.#gone) {
        const buf = this.#buffered;
        const head = parseRequestHead(buf, this.#deps.maxHeadBytes);
        if (head.kind === 'need-more') return;
        if (head.kind === 'handoff') return this.#handoff();
        this.#buffered = head.length === buf.length ? undefined : buf.subarray(head.length);
        const req = new H1Request(head, this.socket);
        const res = new H1Response(req, this, head.keepAlive);
        this.#current = res;
        this.#deps.handle(req, res);
      }
    } finally {
      this.#parsing = false;
    }
  }

  finished(res: H1Response): void {
    if (this.#current !== res) return;
    this.#current = undefined;
    res.closed();
    if (!res.shouldKeepAlive) {
      this.#gone = true;
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.#buffered !== undefined) this.#next();
  }

  /** node:http takes over, starting with the bytes not yet served. */
  #handoff(): void {
    const socket = this.socket;
    this.#gone = true;
    socket.off('data', this.#onData);
    socket.off('close', this.#onClose);
    socket.off('error', this.#onError);
    socket.off('timeout', this.#onTimeout);
    socket.off('end', this.#onEnd);
    socket.setTimeout(0);
    socket.pause();
    if (this.#buffered !== undefined) socket.unshift(this.#buffered);
    this.#buffered = undefined;
    this.#deps.handoff(socket);
  }

  readonly #onEnd = (): void => {
    // The client closed its side: as node:http (httpAllowHalfOpen off) and Envoy's HTTP/1.1 codec do, the
    // requests it sent are abandoned (the one in flight ends as a downstream disconnect, DC) and we close.
    this.#gone = true;
    this.socket.destroy();
  };

  readonly #onTimeout = (): void => {
    // Idle between requests; a response in flight is the route's timeout business, not the connection's.
    if (this.#current === undefined) this.socket.destroy();
  };

  readonly #onError = (): void => {
    this.socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#gone = true;
    const res = this.#current;
    this.#current = undefined;
    res?.closed();
  };
}
