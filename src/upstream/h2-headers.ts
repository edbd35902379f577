// Header translation for HTTP/2 upstream requests (RFC 9113 §8.2-8.3): the flat HTTP/1-style list the
// exchange builds becomes pseudo-headers plus lower-case fields without connection-specific ones.
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_SCHEME, HTTP2_HEADER_AUTHORITY, HTTP2_HEADER_STATUS } = http2.constants;

/**
 * "An endpoint MUST NOT generate an HTTP/2 message containing connection-specific header fields"
 * (RFC 9113 §8.2.2); `host` becomes `:authority` (§8.3.1). `te` is re-added as `trailers` below.
 */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te', 'http2-settings']);

export function h2RequestHeaders(method: string, path: string, fields: ReadonlyArray<string>): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = Object.create(null) as http2.OutgoingHttpHeaders;
  out[HTTP2_HEADER_METHOD] = method;
  out[HTTP2_HEADER_PATH] = path;
  out[HTTP2_HEADER_SCHEME] = 'http';
  for (let i = 0; i < fields.length; i += 2) {
    const name = (fields[i] as string).toLowerCase();
    const value = fields[i + 1] as string;
    if (name.charCodeAt(0) === 0x3a /* ':' */) continue;
    if (NOT_FORWARDED.has(name)) {
      if (name === 'host' && out[HTTP2_HEADER_AUTHORITY] === undefined) out[HTTP2_HEADER_AUTHORITY] = value;
      continue;
    }
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  // "The only exception to this is the TE header field, which MAY be present in an HTTP/2 request; when
  // it is, it MUST NOT contain any value other than 'trailers'." gRPC servers expect it; the proxy
  // relays trailers, so it always accepts them.
  out['te'] = 'trailers';
  return out;
}

/** Response (or trailer) fields without pseudo-headers, in the shape undici hands its handlers. */
export function fromH2Headers(headers: http2.IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export function statusOf(headers: http2.IncomingHttpHeaders): number {
  const s = headers[HTTP2_HEADER_STATUS];
  return typeof s === 'number' ? s : Number(s);
}
