// Parses one HTTP/1.1 request head for the fast downstream path (h1-connection.ts). It accepts only the plain
// case, a bodiless HTTP/1.1 request with well-formed fields, and answers `handoff` for everything else (bodies,
// upgrades, HTTP/1.0, odd syntax, oversize heads), which node:http then serves with its own checks and errors.
// Validation is strict (RFC 9112 §3, §5): anything that could smuggle a line break upstream is handed off.

export interface ParsedRequestHead {
  readonly kind: 'request';
  readonly method: string;
  readonly target: string;
  /** As received: [name, value, ...], names in their case, values without surrounding whitespace. */
  readonly rawHeaders: string[];
  /** node:http's shape: lower-case names, duplicates merged as IncomingMessage merges them. */
  readonly headers: Record<string, string | string[]>;
  /** Bytes of the head including the blank line. */
  readonly length: number;
  /** HTTP/1.1 persists unless the client sent `Connection: close`. */
  readonly keepAlive: boolean;
}

export type RequestHeadResult = ParsedRequestHead | { readonly kind: 'need-more' } | { readonly kind: 'handoff' };

const NEED_MORE = { kind: 'need-more' } as const;
const HANDOFF = { kind: 'handoff' } as const;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** More fields than this is unusual enough to leave to node:http (its own limit is 2,000). */
const MAX_FIELDS = 100;

/** Methods served on the fast path; node:http knows the rest (and rejects what llhttp does not). */
const FAST_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'PUT', 'PATCH']);

/**
 * Fields that send a request elsewhere: a body (content-length other than 0, transfer-encoding, expect), a
 * protocol change (upgrade), gRPC (its message counting reads the request stream).
 */
const HANDOFF_FIELDS = new Set(['transfer-encoding', 'upgrade', 'expect', 'http2-settings']);

/** IncomingMessage keeps the first of these and drops later duplicates (node's matchKnownFields). */
const FIRST_WINS = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization',
  'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag',
  'last-modified', 'server', 'age', 'expires',
]);

/** RFC 9110 §5.6.2 tchar, indexed by char code. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

export function parseRequestHead(buf: Buffer, maxHeadBytes: number): RequestHeadResult {
  const end = buf.indexOf(HEAD_END);
  if (end < 0) return buf.length > maxHeadBytes ? HANDOFF : NEED_MORE;
  if (end + 4 > maxHeadBytes) return HANDOFF;
  const head = buf.toString('latin1', 0, end);
  // Request line: METHOD SP request-target SP HTTP/1.1
  const sp1 = head.indexOf(' ');
  const lineEnd = head.indexOf('\r\n');
  const line = lineEnd < 0 ? head.length : lineEnd;
  const sp2 = head.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || sp2 + 9 !== line || !head.startsWith('HTTP/1.1', sp2 + 1)) return HANDOFF;
  const method = head.slice(0, sp1);
  if (!FAST_METHODS.has(method)) return HANDOFF;
  const target = head.slice(sp1 + 1, sp2);
  if (target.length === 0 || !visible(target)) return HANDOFF;
  const rawHeaders: string[] = [];
  const headers: Record<string, string | string[]> = {};
  let keepAlive = true;
  let host = false;
  let pos = line + 2;
  while (pos < head.length) {
    let eol = head.indexOf('\r\n', pos);
    if (eol < 0) eol = head.length;
    const colon = head.indexOf(':', pos);
    if (colon <= pos || colon > eol) return HANDOFF; // no name, no colon, or obs-fold (a line starting with SP)
    for (let i = pos; i < colon; i++) {
      const c = head.charCodeAt(i);
      if (c > 127 || TCHAR[c] !== 1) return HANDOFF;
    }
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && isOws(head.charCodeAt(vs))) vs++;
    while (ve > vs && isOws(head.charCodeAt(ve - 1))) ve--;
    for (let i = vs; i < ve; i++) {
      const c = head.charCodeAt(i);
      // field-vchar / obs-text / SP / HTAB; a bare CR or LF (or any other control) is refused by node:http.
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return HANDOFF;
    }
    const name = head.slice(pos, colon);
    const value = head.slice(vs, ve);
    if (rawHeaders.length >= 2 * MAX_FIELDS) return HANDOFF;
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    if (HANDOFF_FIELDS.has(lower)) return HANDOFF;
    switch (lower) {
      case 'content-length':
        if (value !== '0' || headers['content-length'] !== undefined) return HANDOFF;
        break;
      case 'content-type':
        if (value.startsWith('application/grpc')) return HANDOFF;
        break;
      case 'host':
        if (host) return HANDOFF;
        host = true;
        break;
      case 'connection':
        if (hasToken(value, 'close')) keepAlive = false;
        if (hasToken(value, 'upgrade')) return HANDOFF;
        break;
      case '__proto__':
        return HANDOFF;
    }
    addField(headers, lower, value);
    pos = eol + 2;
  }
  // node:http answers 400 to an HTTP/1.1 request without Host (RFC 9112 §3.2).
  if (!host) return HANDOFF;
  return { kind: 'request', method, target, rawHeaders, headers, length: end + 4, keepAlive };
}

/** Merges a field into the headers object as IncomingMessage does (set-cookie list, cookie `; `, others `, `). */
function addField(headers: Record<string, string | string[]>, lower: string, value: string): void {
  const prev = headers[lower];
  if (prev === undefined) {
    headers[lower] = lower === 'set-cookie' ? [value] : value;
    return;
  }
  if (FIRST_WINS.has(lower)) return;
  if (Array.isArray(prev)) prev.push(value);
  else headers[lower] = lower === 'cookie' ? `${prev}; ${value}` : `${prev}, ${value}`;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Request-target characters: visible ASCII only (no SP, no controls, no bytes above 0x7e). */
function visible(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** Whether a comma-separated field value lists `token` (case-insensitive). */
function hasToken(value: string, token: string): boolean {
  const v = value.toLowerCase();
  let from = 0;
  while (from <= v.length) {
    const comma = v.indexOf(',', from);
    const part = v.slice(from, comma < 0 ? v.length : comma).trim();
    if (part === token) return true;
    if (comma < 0) return false;
    from = comma + 1;
  }
  return false;
}
