// Incremental HTTP/1.1 response parser (RFC 9112): status line, header fields, and the message body length of
// §6.3 (none for HEAD, 1xx, 204 and 304; chunked with extensions and trailers; Content-Length; else until close).
// Push-based and allocation-light: heads are found with Buffer.indexOf and split with indexOf on one latin1 string.
import { h1Error, HEADERS_OVERFLOW, INVALID_CHUNK_SIZE, INVALID_CONSTANT, INVALID_STATUS, STRICT } from './h1-errors.js';
import { blockEnd, Framing, type H1Headers, parseFields } from './h1-fields.js';

export type { H1Headers } from './h1-fields.js';

/** Where the parser hands a response; set once per connection. */
export interface H1ResponseSink {
  /** The final response head (or 101 for an upgrade request). */
  onHead(status: number, statusText: string, headers: H1Headers): void;
  /** One slice of body (a view into the socket's buffer). Returns false to stop parsing after it. */
  onBody(chunk: Buffer): boolean;
  onEnd(trailers: H1Headers): void;
}

/** Envoy's default max_request_headers_kb is 60 KiB; responses get the same bound. */
export const MAX_HEAD_BYTES = 60 * 1024;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkExt,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  Trailers,
  UntilClose,
  Done,
  Upgraded,
}

const CR = 13;
const LF = 10;
/** Past this a chunk size is nonsense (and would lose precision): reject. */
const MAX_CHUNK_SIZE = 2 ** 40;

export class H1ResponseParser {
  readonly #sink: H1ResponseSink;
  #state = State.Done;
  #noBody = false;
  #upgrade = false;
  #remaining = 0;
  /** Bytes of an unfinished head or trailer section, kept until the rest arrives. */
  #pending: Buffer | undefined = undefined;
  #halted = false;
  // ---- what the last head said ----
  status = 0;
  /** The connection may carry another request after this response (version, Connection, framing). */
  keepAlive = false;
  /** `Keep-Alive: timeout=N` of the response, in ms; -1 when absent. */
  keepAliveTimeoutMs = -1;

  constructor(sink: H1ResponseSink) {
    this.#sink = sink;
  }

  /** Expects the response to a new request. */
  reset(noBody: boolean, upgrade: boolean): void {
    this.#state = State.Head;
    this.#noBody = noBody;
    this.#upgrade = upgrade;
    this.#pending = undefined;
    this.#halted = false;
    this.status = 0;
    this.keepAlive = false;
    this.keepAliveTimeoutMs = -1;
  }

  /** Stops the current execute() at the next step (the request was aborted from a callback). */
  halt(): void {
    this.#halted = true;
  }

  /** Response bytes have been seen (a head is complete or being read). */
  get started(): boolean {
    return this.#state !== State.Head || this.#pending !== undefined;
  }

  get done(): boolean {
    return this.#state === State.Done;
  }

  get upgraded(): boolean {
    return this.#state === State.Upgraded;
  }

  /** Body delimited by the end of the connection (no Content-Length, not chunked). */
  get untilClose(): boolean {
    return this.#state === State.UntilClose;
  }

  /**
   * Parses `input`. Returns the bytes it did not consume: after the response ended or switched protocols,
   * or when the sink asked to stop; undefined when everything was consumed. Throws on a malformed response.
   */
  execute(input: Buffer): Buffer | undefined {
    let buf = input;
    if (this.#pending !== undefined) {
      buf = Buffer.concat([this.#pending, input]);
      this.#pending = undefined;
    }
    const len = buf.length;
    let i = 0;
    while (i < len) {
      if (this.#halted) return undefined;
      switch (this.#state) {
        case State.Head: {
          const end = blockEnd(buf, i);
          if (end < 0) return this.#keep(buf, i);
          this.#head(buf.toString('latin1', i, end));
          i = end;
          break;
        }
        case State.Length: {
          const n = Math.min(this.#remaining, len - i);
          this.#remaining -= n;
          const more = this.#sink.onBody(buf.subarray(i, i + n));
          i += n;
          if (this.#remaining === 0) this.#end({});
          else if (!more) return i < len ? buf.subarray(i) : undefined;
          break;
        }
        case State.ChunkSize: {
          const c = buf[i++] as number;
          const digit = hexDigit(c);
          if (digit >= 0) {
            this.#remaining = this.#remaining * 16 + digit;
            if (this.#remaining > MAX_CHUNK_SIZE) throw h1Error('chunk size too large', INVALID_CHUNK_SIZE);
          } else if (c === 0x3b || c === 0x20 || c === 0x09) this.#state = State.ChunkExt; // `;` chunk-ext, BWS
          else if (c === CR) this.#state = State.ChunkSizeLf;
          else if (c === LF) this.#chunkSizeDone();
          else throw h1Error('invalid chunk size', INVALID_CHUNK_SIZE);
          break;
        }
        case State.ChunkExt: {
          // Chunk extensions are ignored ("a recipient MUST ignore unrecognized chunk extensions", RFC 9112 §7.1.1).
          const lf = buf.indexOf(LF, i);
          if (lf < 0) {
            i = len;
            break;
          }
          i = lf + 1;
          this.#chunkSizeDone();
          break;
        }
        case State.ChunkSizeLf:
          if (buf[i++] !== LF) throw h1Error('expected LF after chunk size', STRICT);
          this.#chunkSizeDone();
          break;
        case State.ChunkData: {
          const n = Math.min(this.#remaining, len - i);
          this.#remaining -= n;
          const more = this.#sink.onBody(buf.subarray(i, i + n));
          i += n;
          if (this.#remaining === 0) this.#state = State.ChunkDataCr;
          if (!more) return i < len ? buf.subarray(i) : undefined;
          break;
        }
        case State.ChunkDataCr: {
          const c = buf[i++];
          if (c === CR) this.#state = State.ChunkDataLf;
          else if (c === LF) this.#nextChunk();
          else throw h1Error('expected CRLF after chunk data', STRICT);
          break;
        }
        case State.ChunkDataLf:
          if (buf[i++] !== LF) throw h1Error('expected LF after chunk data', STRICT);
          this.#nextChunk();
          break;
        case State.Trailers: {
          const end = blockEnd(buf, i);
          if (end < 0) return this.#keep(buf, i);
          const text = buf.toString('latin1', i, end);
          i = end;
          this.#end(text.length <= 2 ? {} : parseFields(text, 0, {}));
          break;
        }
        case State.UntilClose: {
          const more = this.#sink.onBody(i === 0 ? buf : buf.subarray(i));
          i = len;
          if (!more) return undefined;
          break;
        }
        case State.Done:
        case State.Upgraded:
          return buf.subarray(i);
      }
    }
    return undefined;
  }

  /** The connection ended: completes a body delimited by close. Returns false if the response was cut short. */
  finish(): boolean {
    if (this.#state === State.Done) return true;
    if (this.#state !== State.UntilClose) return false;
    this.#end({});
    return true;
  }

  #keep(buf: Buffer, from: number): undefined {
    if (buf.length - from > MAX_HEAD_BYTES) throw h1Error('response headers too large', HEADERS_OVERFLOW);
    // A copy: the socket's buffer is not ours to hold on to.
    this.#pending = Buffer.from(buf.subarray(from));
    return undefined;
  }

  #head(text: string): void {
    if (text.length > MAX_HEAD_BYTES) throw h1Error('response headers too large', HEADERS_OVERFLOW);
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    if (!text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 0x20) throw h1Error('invalid HTTP version in status line', INVALID_CONSTANT);
    const minor = text.charCodeAt(7) - 0x30;
    if (minor !== 0 && minor !== 1) throw h1Error('invalid HTTP version in status line', INVALID_CONSTANT);
    const d0 = text.charCodeAt(9) - 0x30;
    const d1 = text.charCodeAt(10) - 0x30;
    const d2 = text.charCodeAt(11) - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw h1Error('invalid status code', INVALID_STATUS);
    const status = d0 * 100 + d1 * 10 + d2;
    const eol = text.indexOf('\n', 12);
    const after = text.charCodeAt(12);
    if (after !== 0x20 && after !== CR && after !== LF) throw h1Error('invalid status line', INVALID_STATUS);
    const reasonEnd = text.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
    const statusText = after === 0x20 ? text.slice(13, reasonEnd) : '';
    const framing = new Framing(minor === 1);
    const headers = parseFields(text, eol + 1, {}, framing);
    // 1xx interim responses are skipped ("A client MUST be able to parse one or more 1xx responses received
    // prior to a final response", RFC 9110 §15.2), except 101 for an upgrade.
    if (status < 200 && !(status === 101 && this.#upgrade)) {
      if (status === 101) throw h1Error('101 Switching Protocols without an upgrade request', INVALID_STATUS);
      return;
    }
    this.status = status;
    this.keepAliveTimeoutMs = framing.keepAliveTimeoutMs;
    if (status === 101) {
      this.#state = State.Upgraded;
      this.keepAlive = false;
      this.#sink.onHead(status, statusText, headers);
      return;
    }
    this.keepAlive = framing.keepAlive && !this.#upgrade;
    // RFC 9112 §6.3: HEAD, 204 and 304 responses end with the head, whatever their Content-Length says.
    if (this.#noBody || status === 204 || status === 304) {
      this.#sink.onHead(status, statusText, headers);
      this.#end({});
    } else if (framing.chunked) {
      // Transfer-Encoding overrides Content-Length; a message with both "ought to be handled as an error"
      // and the connection closed after it (§6.3 item 3).
      if (framing.contentLength >= 0) this.keepAlive = false;
      this.#remaining = 0;
      this.#state = State.ChunkSize;
      this.#sink.onHead(status, statusText, headers);
    } else if (framing.transferEncoding) {
      this.keepAlive = false;
      this.#state = State.UntilClose;
      this.#sink.onHead(status, statusText, headers);
    } else if (framing.contentLength >= 0) {
      this.#remaining = framing.contentLength;
      this.#state = State.Length;
      this.#sink.onHead(status, statusText, headers);
      if (framing.contentLength === 0) this.#end({});
    } else {
      this.keepAlive = false;
      this.#state = State.UntilClose;
      this.#sink.onHead(status, statusText, headers);
    }
  }

  #chunkSizeDone(): void {
    if (this.#remaining === 0) {
      this.#state = State.Trailers;
      return;
    }
    this.#state = State.ChunkData;
  }

  #nextChunk(): void {
    this.#remaining = 0;
    this.#state = State.ChunkSize;
  }

  #end(trailers: H1Headers): void {
    if (this.#state === State.Done) return;
    this.#state = State.Done;
    this.#sink.onEnd(trailers);
  }
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
