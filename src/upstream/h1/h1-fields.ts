// Header and trailer field blocks of an HTTP/1.1 response (RFC 9112 §5): where a block ends, its fields as the
// object undici hands its handlers, and what the framing fields (Connection, Content-Length, Transfer-Encoding,
// Keep-Alive) say about the body and the connection.
import { h1Error, INVALID_CONTENT_LENGTH, INVALID_HEADER_TOKEN } from './h1-errors.js';

export type H1Headers = Record<string, string | string[]>;

const CR = 13;
const LF = 10;

/** What the framing headers of one response said (filled by parseFields). */
export class Framing {
  contentLength = -1;
  chunked = false;
  transferEncoding = false;
  keepAlive: boolean;
  keepAliveTimeoutMs = -1;

  constructor(http11: boolean) {
    // HTTP/1.1 is persistent by default; HTTP/1.0 only with `Connection: keep-alive` (RFC 9112 §9.3).
    this.keepAlive = http11;
  }

  connection(value: string): void {
    const v = value.toLowerCase();
    if (v.includes('close')) this.keepAlive = false;
    else if (v.includes('keep-alive')) this.keepAlive = true;
  }

  length(value: string): void {
    // A list of identical values is one value (RFC 9110 §8.6); anything else is an error.
    const comma = value.indexOf(',');
    const first = comma < 0 ? value : value.slice(0, comma).trim();
    if (first.length === 0 || first.length > 15) throw h1Error('invalid content-length', INVALID_CONTENT_LENGTH);
    for (let i = 0; i < first.length; i++) {
      const c = first.charCodeAt(i);
      if (c < 0x30 || c > 0x39) throw h1Error('invalid content-length', INVALID_CONTENT_LENGTH);
    }
    if (comma >= 0) for (const part of value.split(',')) if (part.trim() !== first) throw h1Error('conflicting content-length', INVALID_CONTENT_LENGTH);
    const n = Number(first);
    if (this.contentLength >= 0 && this.contentLength !== n) throw h1Error('conflicting content-length', INVALID_CONTENT_LENGTH);
    this.contentLength = n;
  }

  transfer(value: string): void {
    this.transferEncoding = true;
    // Chunked must be the final coding (RFC 9112 §6.3 item 4); otherwise the body runs until close.
    const v = value.trimEnd().toLowerCase();
    this.chunked = v.endsWith('chunked') && (v.length === 7 || v.charCodeAt(v.length - 8) === 0x2c || v.charCodeAt(v.length - 8) === 0x20);
  }

  keepAliveParams(value: string): void {
    const at = value.indexOf('timeout=');
    if (at < 0) return;
    const n = parseInt(value.slice(at + 8), 10);
    if (Number.isFinite(n) && n >= 0) this.keepAliveTimeoutMs = n * 1000;
  }
}

/**
 * Header (or trailer) field lines of `text` from `from` to the blank line, into `out`: names lowercased, repeated
 * names joined into arrays, values without surrounding whitespace (the shape undici hands its handlers).
 */
export function parseFields(text: string, from: number, out: H1Headers, framing?: Framing): H1Headers {
  let pos = from;
  const end = text.length;
  while (pos < end) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = end;
    const lineEnd = eol > pos && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
    if (lineEnd === pos) break; // the blank line
    const first = text.charCodeAt(pos);
    // obs-fold: "A user agent that receives an obs-fold in a response message [...] MUST replace each
    // received obs-fold with one or more SP octets" (RFC 9112 §5.2); llhttp rejects it, and so do we.
    if (first === 0x20 || first === 0x09) throw h1Error('obsolete line folding in header field', INVALID_HEADER_TOKEN);
    const colon = text.indexOf(':', pos);
    if (colon < 0 || colon >= lineEnd || colon === pos) throw h1Error('invalid header field', INVALID_HEADER_TOKEN);
    const last = text.charCodeAt(colon - 1);
    // "No whitespace is allowed between the field name and colon" (RFC 9112 §5.1).
    if (last === 0x20 || last === 0x09) throw h1Error('whitespace before colon in header field', INVALID_HEADER_TOKEN);
    const name = text.slice(pos, colon).toLowerCase();
    let vs = colon + 1;
    while (vs < lineEnd && (text.charCodeAt(vs) === 0x20 || text.charCodeAt(vs) === 0x09)) vs++;
    let ve = lineEnd;
    while (ve > vs && (text.charCodeAt(ve - 1) === 0x20 || text.charCodeAt(ve - 1) === 0x09)) ve--;
    const value = text.slice(vs, ve);
    if (framing !== undefined) {
      if (name.length === 10) {
        if (name === 'connection') framing.connection(value);
        else if (name === 'keep-alive') framing.keepAliveParams(value);
      } else if (name.length === 14 && name === 'content-length') framing.length(value);
      else if (name.length === 17 && name === 'transfer-encoding') framing.transfer(value);
    }
    const prev = out[name];
    if (prev === undefined) {
      if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, configurable: true, writable: true });
      else out[name] = value;
    } else if (typeof prev === 'string') out[name] = [prev, value];
    else prev.push(value);
    pos = eol + 1;
  }
  return out;
}

/**
 * End (exclusive) of a field block starting at `from`: just past the blank line that closes it (CRLF, or a bare LF
 * as RFC 9112 §2.2 lets a recipient accept); -1 when the block is not complete yet.
 */
export function blockEnd(buf: Buffer, from: number): number {
  const len = buf.length;
  // An empty block (a chunked body without trailers): the blank line comes first.
  if (from < len && buf[from] === LF) return from + 1;
  if (from + 1 < len && buf[from] === CR && buf[from + 1] === LF) return from + 2;
  let i = from;
  for (;;) {
    const lf = buf.indexOf(LF, i);
    if (lf < 0 || lf + 1 >= len) return -1;
    const next = buf[lf + 1];
    if (next === LF) return lf + 2;
    if (next === CR) {
      if (lf + 2 >= len) return -1;
      if (buf[lf + 2] === LF) return lf + 3;
    }
    i = lf + 1;
  }
}
