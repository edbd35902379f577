// The per-request view route matching reads: method, path, raw query, headers and (lazily) query params.
// Built once per request on the hot path, so it avoids `new URL()`, regexes and per-request closures.
import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';

const SLASH = 0x2f;
const QUESTION = 0x3f;
const HASH = 0x23;
const COLON = 0x3a;
const AMP = 0x26;
const EQUALS = 0x3d;

export class RequestView {
  readonly method: string;
  /** The request-target's path: before `?`/`#`; for an absolute-form target (`http://h/x`), its path. */
  readonly path: string;
  /** Text after `?` up to any `#`, undecoded; '' when there is no query. */
  readonly rawQuery: string;
  readonly #headers: IncomingHttpHeaders;
  /** Decoded query, first value per name; built on the first queryParam() call only. */
  #query: Map<string, string> | undefined;

  constructor(method: string, rawPath: string, headers: IncomingHttpHeaders) {
    this.method = method;
    const start = pathStart(rawPath);
    let end = rawPath.length;
    let queryEnd = end;
    // The first of `?` / `#` ends the path; a `?` after `#` belongs to the fragment (RFC 3986 §3.5).
    for (let i = start; i < rawPath.length; i++) {
      const c = rawPath.charCodeAt(i);
      if (c === HASH) {
        end = i;
        queryEnd = i;
        break;
      }
      if (c === QUESTION) {
        end = i;
        const hash = rawPath.indexOf('#', i + 1);
        if (hash >= 0) queryEnd = hash;
        break;
      }
    }
    // An absolute-form target with no path (`http://host?x`) has the path `/` (RFC 9112 §3.2.2).
    this.path = start > 0 && start === end ? '/' : rawPath.slice(start, end);
    this.rawQuery = end < queryEnd ? rawPath.slice(end + 1, queryEnd) : '';
    this.#headers = headers;
    this.#query = undefined;
  }

  /**
   * The header's value; `lowerName` must already be lower-case (Node lower-cases received names).
   * A header received as several lines (a string[], e.g. set-cookie) is joined with `,` as RFC 9110 §5.3
   * combines field lines. `host` falls back to HTTP/2's `:authority`, which replaces it there.
   */
  header(lowerName: string): string | undefined {
    let v = this.#headers[lowerName];
    if (v === undefined && lowerName === 'host') v = this.#headers[':authority'];
    if (v === undefined || typeof v === 'string') return v;
    return v.join(',');
  }

  /** First value of the query parameter `name` (names compared after decoding), or undefined. */
  queryParam(name: string): string | undefined {
    let q = this.#query;
    if (q === undefined) {
      q = parseQuery(this.rawQuery);
      this.#query = q;
    }
    return q.get(name);
  }
}

/**
 * Index where the path starts: 0 for origin-form (`/x`), asterisk-form and authority-form targets;
 * after the authority for absolute-form (`scheme://authority/path`), whose scheme is
 * ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1).
 */
function pathStart(raw: string): number {
  if (raw.length === 0 || raw.charCodeAt(0) === SLASH) return 0;
  let i = 0;
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (alpha || (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e))) continue;
    break;
  }
  if (i === 0 || raw.charCodeAt(i) !== COLON || raw.charCodeAt(i + 1) !== SLASH || raw.charCodeAt(i + 2) !== SLASH) {
    return 0;
  }
  for (i += 3; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === SLASH || c === QUESTION || c === HASH) return i;
  }
  return raw.length;
}

/** application/x-www-form-urlencoded parsing (WHATWG URL §5.1), keeping the first value of each name. */
function parseQuery(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  // One pass with charCodeAt: indexOf('=') per pair could rescan the rest of a long query (quadratic).
  let pos = 0;
  let eq = -1;
  for (let i = 0; i <= raw.length; i++) {
    const c = i < raw.length ? raw.charCodeAt(i) : AMP;
    if (c === EQUALS && eq < 0) {
      eq = i;
    } else if (c === AMP) {
      if (i > pos) {
        const name = formDecode(raw.slice(pos, eq < 0 ? i : eq));
        // "If a query param is repeated ... it is *recommended* that implementations should match
        // against the first value of the param" (Gateway API HTTPQueryParamMatch.name).
        if (!out.has(name)) out.set(name, eq < 0 ? '' : formDecode(raw.slice(eq + 1, i)));
      }
      pos = i + 1;
      eq = -1;
    }
  }
  return out;
}

/**
 * `+` is a space, `%XX` a byte; the bytes are then read as UTF-8 (invalid sequences become U+FFFD, as
 * URLSearchParams does). A `%` not followed by two hex digits is kept literally; this never throws.
 */
export function formDecode(s: string): string {
  let plus = false;
  let pct = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) plus = true;
    else if (c === 0x25) pct = true;
  }
  if (!pct) return plus ? s.replaceAll('+', ' ') : s;
  // `%`, `+` and hex digits are ASCII, so decoding in place over the UTF-8 bytes is equivalent.
  const bytes = Buffer.from(s, 'utf8');
  let w = 0;
  for (let r = 0; r < bytes.length; r++) {
    let b = bytes[r]!;
    if (b === 0x2b) {
      b = 0x20;
    } else if (b === 0x25 && r + 2 < bytes.length) {
      const hi = hexValue(bytes[r + 1]!);
      const lo = hexValue(bytes[r + 2]!);
      if (hi >= 0 && lo >= 0) {
        b = hi * 16 + lo;
        r += 2;
      }
    }
    bytes[w++] = b;
  }
  return bytes.toString('utf8', 0, w);
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}
