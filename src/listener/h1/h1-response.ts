// The response side of the fast HTTP/1.1 path: the subset of node:http's ServerResponse the proxy uses, written
// straight to the socket. Framing follows node:http (and RFC 9112 §6): Content-Length when the head has one or
// the whole body is given to end() before anything went out, chunked otherwise; no body for HEAD, 1xx, 204, 304.
// Unlike node:http it adds no `Connection: keep-alive`/`Keep-Alive` fields: Envoy sends `connection: close` only.
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { H1Request } from './h1-request.js';

/** What a response needs from its connection. */
export interface H1ResponseOwner {
  readonly socket: Socket;
  /** The response is complete on the wire (or abandoned): the connection reads the next request or closes. */
  finished(res: H1Response): void;
}

type Framing = 'length' | 'chunked' | 'none';

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = '0\r\n';

let dateValue = '';
let dateExpiresAt = 0;

/** The Date field value, formatted at most once per second (RFC 9110 §6.6.1: "the proxy SHOULD generate one"). */
function httpDate(): string {
  const now = Date.now();
  if (now >= dateExpiresAt) {
    dateValue = new Date(now).toUTCString();
    dateExpiresAt = now - (now % 1000) + 1000;
  }
  return dateValue;
}

export class H1Response extends EventEmitter {
  readonly req: H1Request;
  statusCode = 200;
  headersSent = false;
  /** false: `connection: close` on the head and the connection closes after this response. */
  shouldKeepAlive: boolean;
  writableEnded = false;
  finished = false;
  destroyed = false;
  readonly #owner: H1ResponseOwner;
  #fields: ReadonlyArray<string> | undefined = undefined;
  #framing: Framing = 'none';
  #bodyAllowed: boolean;
  #wrote = false;
  #trailers: string | undefined = undefined;

  constructor(req: H1Request, owner: H1ResponseOwner, keepAlive: boolean) {
    super();
    this.req = req;
    this.#owner = owner;
    this.shouldKeepAlive = keepAlive;
    this.#bodyAllowed = req.method !== 'HEAD';
  }

  writeHead(status: number, fields?: ReadonlyArray<string>): this {
    if (this.headersSent) return this;
    this.statusCode = status;
    this.headersSent = true;
    this.#fields = fields ?? [];
    if (status < 200 || status === 204 || status === 304) this.#bodyAllowed = false;
    return this;
  }

  /** Serializes the head; `endLength` is the whole body when end() brings it before anything was sent. */
  #serialize(endLength: number | undefined): string {
    const fields = this.#fields ?? [];
    let head = `HTTP/1.1 ${this.statusCode} ${STATUS_CODES[this.statusCode] ?? 'unknown'}\r\n`;
    let length = false;
    let date = false;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i] as string;
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      else if (name.length === 4 && name.toLowerCase() === 'date') date = true;
      head += `${name}: ${fields[i + 1] as string}\r\n`;
    }
    if (!date) head += `date: ${httpDate()}\r\n`;
    if (length || !this.#bodyAllowed) {
      this.#framing = length && this.#bodyAllowed ? 'length' : 'none';
    } else if (endLength !== undefined) {
      head += `content-length: ${endLength}\r\n`;
      this.#framing = 'length';
    } else {
      head += 'transfer-encoding: chunked\r\n';
      this.#framing = 'chunked';
    }
    if (!this.shouldKeepAlive) head += 'connection: close\r\n';
    return `${head}\r\n`;
  }

  flushHeaders(): void {
    if (this.#wrote || this.destroyed) return;
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.#wrote = true;
    this.#owner.socket.write(this.#serialize(undefined), 'latin1');
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    const body = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const socket = this.#owner.socket;
    let head = '';
    if (!this.#wrote) {
      if (!this.headersSent) this.writeHead(this.statusCode);
      head = this.#serialize(undefined);
      this.#wrote = true;
    }
    if (this.#framing === 'none' || body.length === 0) return head === '' ? true : socket.write(head, 'latin1');
    if (this.#framing === 'chunked') head += `${body.length.toString(16)}\r\n`;
    const ok = this.#send(head, body, this.#framing === 'chunked' ? '\r\n' : '');
    if (!ok) socket.once('drain', this.#onDrain);
    return ok;
  }

  /** Trailer fields for a chunked response (node:http sends them only when chunked, as here). */
  addTrailers(trailers: Readonly<Record<string, string | string[] | undefined>>): void {
    let out = '';
    for (const name in trailers) {
      const v = trailers[name];
      if (typeof v === 'string') out += `${name}: ${v}\r\n`;
      else if (v !== undefined) for (const one of v) out += `${name}: ${one}\r\n`;
    }
    this.#trailers = out;
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded || this.destroyed) return this;
    this.writableEnded = true;
    const body = chunk === undefined ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let head = '';
    if (!this.#wrote) {
      if (!this.headersSent) this.writeHead(this.statusCode);
      head = this.#serialize(body?.length ?? 0);
      this.#wrote = true;
    }
    if (this.#framing === 'chunked') {
      if (body !== undefined && body.length > 0) head += `${body.length.toString(16)}\r\n`;
      const tail = `${body !== undefined && body.length > 0 ? '\r\n' : ''}${LAST_CHUNK}${this.#trailers ?? ''}\r\n`;
      this.#send(head, body, tail);
    } else if (this.#framing === 'length' && body !== undefined && body.length > 0) {
      this.#send(head, body, '');
    } else if (head !== '') {
      this.#owner.socket.write(head, 'latin1');
    }
    this.finished = true;
    this.#owner.finished(this);
    return this;
  }

  /** One socket write for head, body and tail (a small response leaves in one syscall). */
  #send(head: string, body: Buffer | undefined, tail: string): boolean {
    const socket = this.#owner.socket;
    const bodyLength = body?.length ?? 0;
    if (bodyLength > 16 * 1024) {
      socket.cork();
      if (head !== '') socket.write(head, 'latin1');
      socket.write(body as Buffer);
      if (tail !== '') socket.write(tail === '\r\n' ? CRLF : tail, 'latin1');
      socket.uncork();
      return !socket.writableNeedDrain;
    }
    const headLength = head.length;
    const out = Buffer.allocUnsafe(headLength + bodyLength + tail.length);
    if (headLength > 0) out.write(head, 0, 'latin1');
    if (body !== undefined) body.copy(out, headLength);
    if (tail.length > 0) out.write(tail, headLength + bodyLength, 'latin1');
    return socket.write(out);
  }

  readonly #onDrain = (): void => {
    this.emit('drain');
  };

  /** Ends the connection abruptly: HTTP/1.1 has no other way to reset a response. */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#owner.socket.destroy(err);
    return this;
  }

  /**
   * The connection is gone or this response is over: 'close', emitted on the next tick as node:http does (the
   * proxy finishes its exchange right after end(), and must see a completed response, not a disconnect).
   */
  closed(): void {
    if (!this.finished) this.destroyed = true;
    process.nextTick(emitClose, this);
  }
}

function emitClose(res: H1Response): void {
  res.emit('close');
}
