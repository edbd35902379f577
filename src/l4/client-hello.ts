// Reads the TLS ClientHello without terminating TLS, as Envoy's tls_inspector does: incremental over
// arbitrary TCP chunks and over handshake messages split across several TLS records, with a hard cap on
// buffered bytes. Yields the SNI (RFC 6066 server_name) and ALPN list; the raw bytes are kept for replay.

/** Envoy's tls_inspector reads at most 64 KiB (`max_client_hello_size`) before giving up. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

export type ClientHelloResult =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'hello'; readonly sni: string | undefined; readonly alpn: ReadonlyArray<string> }
  /** The first bytes are not a TLS handshake record (plaintext, HTTP, ...). */
  | { readonly kind: 'not-tls' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'too-large' };

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
/** RFC 8446 5.1: "The length MUST NOT exceed 2^14 bytes." */
const MAX_RECORD_FRAGMENT = 1 << 14;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const NEED_MORE: ClientHelloResult = Object.freeze({ kind: 'need-more' });
const NOT_TLS: ClientHelloResult = Object.freeze({ kind: 'not-tls' });
const TOO_LARGE: ClientHelloResult = Object.freeze({ kind: 'too-large' });

/** Feed it every chunk read from the client until it answers something other than `need-more`. */
export class ClientHelloReader {
  readonly #limit: number;
  #raw: Buffer = Buffer.alloc(0);
  #rawLength = 0;
  /** Offset in #raw of the next TLS record header. */
  #next = 0;
  #handshake: Buffer = Buffer.alloc(0);
  #handshakeLength = 0;
  #result: ClientHelloResult = NEED_MORE;

  constructor(limit = MAX_CLIENT_HELLO_BYTES) {
    this.#limit = limit;
  }

  /** Every byte pushed so far, to be replayed to the upstream untouched. */
  get buffered(): Buffer {
    return this.#raw.subarray(0, this.#rawLength);
  }

  push(chunk: Buffer): ClientHelloResult {
    if (this.#result.kind !== 'need-more') return this.#result;
    if (this.#rawLength + chunk.length > this.#limit) {
      // Keep what fits (for nothing but symmetry); the connection is refused anyway.
      this.#append(chunk.subarray(0, this.#limit - this.#rawLength));
      return (this.#result = TOO_LARGE);
    }
    this.#append(chunk);
    return (this.#result = this.#parse());
  }

  #append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const needed = this.#rawLength + chunk.length;
    if (needed > this.#raw.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.#limit, Math.max(needed, this.#raw.length * 2, 1024)));
      this.#raw.copy(grown, 0, 0, this.#rawLength);
      this.#raw = grown;
    }
    chunk.copy(this.#raw, this.#rawLength);
    this.#rawLength = needed;
  }

  #parse(): ClientHelloResult {
    const raw = this.#raw;
    while (this.#rawLength - this.#next >= 1) {
      const at = this.#next;
      // Decide "not TLS" on the first byte so plaintext is refused without waiting for more.
      if (raw[at] !== CONTENT_HANDSHAKE) return at === 0 ? NOT_TLS : invalid('record is not a handshake record before the ClientHello completed');
      if (this.#rawLength - at >= 2 && raw[at + 1] !== 3) return at === 0 ? NOT_TLS : invalid('unsupported record version');
      if (this.#rawLength - at < RECORD_HEADER) return NEED_MORE;
      const length = raw.readUInt16BE(at + 3);
      if (length === 0) return invalid('zero-length handshake record');
      if (length > MAX_RECORD_FRAGMENT) return invalid('record longer than 2^14 bytes');
      if (at + RECORD_HEADER + length > this.#limit) return TOO_LARGE;
      if (this.#rawLength - at - RECORD_HEADER < length) return NEED_MORE;
      this.#appendHandshake(raw.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length));
      this.#next = at + RECORD_HEADER + length;
      const hs = this.#handshake;
      if (this.#handshakeLength < HANDSHAKE_HEADER) continue;
      if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('first handshake message is not a ClientHello');
      const bodyLength = hs.readUIntBE(1, 3);
      if (HANDSHAKE_HEADER + bodyLength > this.#limit) return TOO_LARGE;
      if (this.#handshakeLength < HANDSHAKE_HEADER + bodyLength) continue;
      return parseClientHelloBody(hs.subarray(HANDSHAKE_HEADER, HANDSHAKE_HEADER + bodyLength));
    }
    return NEED_MORE;
  }

  #appendHandshake(fragment: Buffer): void {
    const needed = this.#handshakeLength + fragment.length;
    if (needed > this.#handshake.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#handshake.length * 2, 512));
      this.#handshake.copy(grown, 0, 0, this.#handshakeLength);
      this.#handshake = grown;
    }
    fragment.copy(this.#handshake, this.#handshakeLength);
    this.#handshakeLength = needed;
  }
}

function invalid(reason: string): ClientHelloResult {
  return { kind: 'invalid', reason };
}

/** A bounds-checked cursor over the ClientHello body; every read past the end marks it broken. */
class Cursor {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  broken = false;

  constructor(buf: Buffer, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  uint(bytes: 1 | 2): number {
    if (this.pos + bytes > this.end) {
      this.broken = true;
      return 0;
    }
    const v = bytes === 1 ? (this.buf[this.pos] as number) : this.buf.readUInt16BE(this.pos);
    this.pos += bytes;
    return v;
  }

  /** A sub-cursor over the next `length` bytes. */
  take(length: number): Cursor {
    if (this.pos + length > this.end) {
      this.broken = true;
      return new Cursor(this.buf, this.end, this.end);
    }
    const sub = new Cursor(this.buf, this.pos, this.pos + length);
    this.pos += length;
    return sub;
  }

  get remaining(): number {
    return this.end - this.pos;
  }
}

/** RFC 8446 4.1.2 (and the TLS 1.2 layout it keeps): version, random, session id, ciphers, compression, extensions. */
export function parseClientHelloBody(body: Buffer): ClientHelloResult {
  const c = new Cursor(body, 0, body.length);
  const truncated = invalid('truncated ClientHello');
  const major = c.uint(1);
  c.uint(1);
  c.take(32);
  const sessionId = c.uint(1);
  if (c.broken) return truncated;
  if (major !== 3) return invalid('unsupported ClientHello version');
  if (sessionId > 32) return invalid('session id longer than 32 bytes');
  c.take(sessionId);
  const ciphers = c.uint(2);
  if (c.broken) return truncated;
  if (ciphers < 2 || ciphers % 2 !== 0) return invalid('malformed cipher_suites');
  c.take(ciphers);
  const compression = c.uint(1);
  if (c.broken) return truncated;
  if (compression < 1) return invalid('malformed compression_methods');
  c.take(compression);
  if (c.broken) return truncated;
  // TLS 1.2 allows a ClientHello without extensions: no SNI then.
  if (c.remaining === 0) return { kind: 'hello', sni: undefined, alpn: [] };
  const extensions = c.take(c.uint(2));
  if (c.broken || c.remaining !== 0) return invalid('extensions length does not match the ClientHello length');
  let sni: string | undefined;
  let alpn: string[] = [];
  const seen = new Set<number>();
  while (extensions.remaining > 0) {
    const type = extensions.uint(2);
    const data = extensions.take(extensions.uint(2));
    if (extensions.broken) return invalid('truncated extension');
    // RFC 8446 4.2: "There MUST NOT be more than one extension of the same type in a given extension block."
    if (seen.has(type)) return invalid(`duplicate extension ${type}`);
    seen.add(type);
    if (type === EXT_SERVER_NAME) {
      const parsed = serverName(data);
      if (typeof parsed === 'object') return parsed;
      sni = parsed;
    } else if (type === EXT_ALPN) {
      const parsed = protocols(data);
      if (!Array.isArray(parsed)) return parsed;
      alpn = parsed;
    }
  }
  return { kind: 'hello', sni, alpn };
}

/** RFC 6066 3: a ServerNameList; the first `host_name` entry is the SNI. */
function serverName(data: Cursor): string | undefined | ClientHelloResult {
  const list = data.take(data.uint(2));
  if (data.broken || data.remaining !== 0) return invalid('malformed server_name extension');
  let sni: string | undefined;
  while (list.remaining > 0) {
    const nameType = list.uint(1);
    const name = list.take(list.uint(2));
    if (list.broken) return invalid('malformed server_name extension');
    if (nameType !== 0 || sni !== undefined) continue;
    const host = hostName(name);
    if (host === undefined) return invalid('server_name is not a valid host name');
    sni = host;
  }
  return sni;
}

/** DNS host names only (RFC 6066: "HostName ... ASCII", no trailing dot, not an IP literal check here). */
function hostName(name: Cursor): string | undefined {
  const length = name.remaining;
  if (length === 0 || length > 255) return undefined;
  const bytes = name.buf.subarray(name.pos, name.end);
  for (const b of bytes) {
    const ok = (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f;
    if (!ok) return undefined;
  }
  return bytes.toString('latin1').toLowerCase();
}

/** RFC 7301 3.1: ProtocolNameList, each name 1-255 bytes. */
function protocols(data: Cursor): string[] | ClientHelloResult {
  const list = data.take(data.uint(2));
  if (data.broken || data.remaining !== 0) return invalid('malformed ALPN extension');
  const out: string[] = [];
  while (list.remaining > 0) {
    const length = list.uint(1);
    const name = list.take(length);
    if (list.broken || length === 0) return invalid('malformed ALPN extension');
    out.push(name.buf.toString('latin1', name.pos, name.end));
  }
  return out;
}
