// Serializes an HTTP/1.1 request head (RFC 9112 §3, §6) into one latin1 string, as undici writes it: request line,
// Host first, Connection, the fields in their order and case, then the body's framing (Content-Length or chunked).
import { h1Error, INVALID_ARGUMENT } from './h1-errors.js';

/** Request headers as the waypoint dispatches them: a flat [name, value, ...] list, or an object. */
export type H1RequestHeaders = ReadonlyArray<string> | Readonly<Record<string, string | ReadonlyArray<string> | undefined>>;

/** How the body follows the head: `none`, a Content-Length, or chunked (a stream of unknown length). */
export type BodyFraming = 'none' | 'length' | 'chunked';

export interface RequestHead {
  /** Request line and Host. */
  readonly prefix: string;
  /** The Connection line when the request fixes it (an upgrade, or `Connection: close`); else the pool's. */
  readonly connection: string | undefined;
  /** The other fields, the framing field and the blank line. */
  readonly suffix: string;
  readonly framing: BodyFraming;
  /** Body bytes announced by Content-Length (`length` framing). */
  readonly length: number;
  /** The request asked for the connection to close after it (`Connection: close`). */
  readonly close: boolean;
}

/** `undefined` for a stream body: its length comes from a Content-Length field, else it is sent chunked. */
export type KnownLength = number | undefined;

/** Methods whose semantics anticipate a body: they get `content-length: 0` when they have none (as undici). */
function expectsPayload(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'QUERY' || method === 'PROPFIND' || method === 'PROPPATCH';
}

export const KEEP_ALIVE_LINE = 'connection: keep-alive\r\n';
export const CLOSE_LINE = 'connection: close\r\n';

/** The whole head, with the Connection line this connection needs (`close` on its last request). */
export function headText(head: RequestHead, last: boolean): string {
  return head.prefix + (head.connection ?? (last ? CLOSE_LINE : KEEP_ALIVE_LINE)) + head.suffix;
}

/**
 * The head of one request, built once (a retry on another connection reuses it). Fields the client owns (Connection, Keep-Alive, Transfer-Encoding, Upgrade,
 * Content-Length, Expect) are not copied: they are rewritten from the body and the pool's state.
 */
export function requestHead(method: string, path: string, headers: H1RequestHeaders, defaultHost: string, bodyLength: KnownLength, upgrade: string | undefined): RequestHead {
  if (!safe(path) || path.length === 0 || path.includes(' ')) throw h1Error('invalid request path', INVALID_ARGUMENT);
  let host: string | undefined;
  let fieldLength = -1;
  let close = false;
  let fields = '';
  if (isList(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] as string;
      const value = headers[i + 1] as string;
      const kind = special(name);
      if (kind === Special.None) {
        if (!safe(value) || !safe(name)) throw h1Error(`invalid ${name} header`, INVALID_ARGUMENT);
        fields += `${name}: ${value}\r\n`;
      } else if (kind === Special.Host) {
        if (host !== undefined) throw h1Error('duplicate host header', INVALID_ARGUMENT);
        host = value;
      } else if (kind === Special.ContentLength) fieldLength = contentLength(value);
      else if (kind === Special.Connection) close ||= value.toLowerCase().includes('close');
    }
  } else {
    for (const name in headers) {
      const raw = headers[name];
      if (raw === undefined) continue;
      const values: ReadonlyArray<string> = typeof raw === 'string' ? [raw] : raw;
      for (const value of values) {
        const kind = special(name);
        if (kind === Special.None) {
          if (!safe(value) || !safe(name)) throw h1Error(`invalid ${name} header`, INVALID_ARGUMENT);
          fields += `${name}: ${value}\r\n`;
        } else if (kind === Special.Host) host = value;
        else if (kind === Special.ContentLength) fieldLength = contentLength(value);
        else if (kind === Special.Connection) close ||= value.toLowerCase().includes('close');
      }
    }
  }
  if (host !== undefined && !safe(host)) throw h1Error('invalid host header', INVALID_ARGUMENT);
  if (upgrade !== undefined && !safe(upgrade)) throw h1Error('invalid upgrade header', INVALID_ARGUMENT);
  const connection = upgrade !== undefined ? `connection: upgrade\r\nupgrade: ${upgrade}\r\n` : close ? CLOSE_LINE : undefined;
  const prefix = `${method} ${path} HTTP/1.1\r\nhost: ${host ?? defaultHost}\r\n`;
  let text = fields;
  let framing: BodyFraming;
  let length = 0;
  const known = bodyLength ?? fieldLength;
  if (bodyLength === undefined && fieldLength < 0) {
    framing = 'chunked';
    text += 'transfer-encoding: chunked\r\n\r\n';
  } else if (known > 0) {
    framing = 'length';
    length = known;
    text += `content-length: ${known}\r\n\r\n`;
  } else {
    // "A user agent SHOULD NOT send a Content-Length header field when the request message does not contain
    // content and the method semantics do not anticipate such data" (RFC 9110 §8.6).
    framing = 'none';
    text += expectsPayload(method) ? 'content-length: 0\r\n\r\n' : '\r\n';
  }
  return { prefix, connection, suffix: text, framing, length, close };
}

const enum Special {
  None,
  Host,
  ContentLength,
  Connection,
  /** Hop-by-hop fields the client sets itself (Keep-Alive, Transfer-Encoding, Upgrade, Expect): dropped. */
  Dropped,
}

/** Length first: most names are none of these and need no lowercasing. */
function special(name: string): Special {
  switch (name.length) {
    case 4:
      return name.toLowerCase() === 'host' ? Special.Host : Special.None;
    case 6:
      return name.toLowerCase() === 'expect' ? Special.Dropped : Special.None;
    case 7:
      return name.toLowerCase() === 'upgrade' ? Special.Dropped : Special.None;
    case 10: {
      const l = name.toLowerCase();
      return l === 'connection' ? Special.Connection : l === 'keep-alive' ? Special.Dropped : Special.None;
    }
    case 14:
      return name.toLowerCase() === 'content-length' ? Special.ContentLength : Special.None;
    case 17:
      return name.toLowerCase() === 'transfer-encoding' ? Special.Dropped : Special.None;
    default:
      return Special.None;
  }
}

function contentLength(value: string): number {
  const n = Number(value);
  if (value.length === 0 || !Number.isSafeInteger(n) || n < 0) throw h1Error('invalid content-length header', INVALID_ARGUMENT);
  return n;
}

/** No CR, LF or NUL: anything else cannot split the request. */
function safe(s: string): boolean {
  return s.indexOf('\r') < 0 && s.indexOf('\n') < 0 && s.indexOf('\0') < 0;
}

function isList(h: H1RequestHeaders): h is ReadonlyArray<string> {
  return Array.isArray(h);
}
