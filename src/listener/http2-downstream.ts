// What differs between an HTTP/1.1 and an HTTP/2 downstream request for the proxy: the transport the
// connection context is keyed by, how a body is signalled, and how a response head, a headers-only
// response (gRPC Trailers-Only) and a reset are written. Node's compat API covers the rest.
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import { Readable } from 'node:stream';
import { H1Request } from './h1/h1-request.js';
import { H1Response } from './h1/h1-response.js';

/** node:http's request, HTTP/2's compat request, or a bodiless request of the fast HTTP/1.1 path (h1/). */
export type DownstreamRequest = IncomingMessage | http2.Http2ServerRequest | H1Request;
export type DownstreamResponse = ServerResponse | http2.Http2ServerResponse | H1Response;

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR, HTTP2_HEADER_STATUS } = http2.constants;

/** Connection-specific fields never allowed in an HTTP/2 message (RFC 9113 §8.2.2). */
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

export function isH2Response(res: DownstreamResponse): res is http2.Http2ServerResponse {
  return 'stream' in res;
}

/** The object the ConnectionTable knows this request's connection by: the socket, or the h2 session. */
export function transportOf(req: DownstreamRequest): object | undefined {
  return 'stream' in req ? req.stream.session : req.socket;
}

// The three response types' overloaded methods do not unify in a union call: these narrow first.

/** `res.end(chunk?)` on any downstream response. */
export function endResponse(res: DownstreamResponse, chunk?: Buffer | string): void {
  if (res instanceof H1Response) res.end(chunk);
  else if (chunk === undefined) res.end();
  else res.end(chunk);
}

/** `res.write(chunk)`: false when the client is not keeping up (wait for 'drain'). */
export function writeResponseBody(res: DownstreamResponse, chunk: Buffer): boolean {
  if (res instanceof H1Response) return res.write(chunk);
  if (isH2Response(res)) return res.write(chunk);
  return res.write(chunk);
}

/** `res.once('close' | 'drain', fn)` on any downstream response. */
export function onceResponse(res: DownstreamResponse, event: 'close' | 'drain', fn: () => void): void {
  if (res instanceof H1Response) res.once(event, fn);
  else if (isH2Response(res)) res.once(event, fn);
  else res.once(event, fn);
}

/** The request body as a stream: node:http's and HTTP/2's requests are one; the fast path's have no body. */
export function requestBodySource(req: DownstreamRequest): IncomingMessage | http2.Http2ServerRequest | Readable {
  return req instanceof H1Request ? Readable.from([]) : req;
}

/** The `Host` of the request: HTTP/2 carries it as `:authority` (RFC 9113 §8.3.1). */
export function authorityOf(req: DownstreamRequest): string | undefined {
  const h = req.headers;
  return (h.host as string | undefined) ?? (h[':authority'] as string | undefined);
}

/** HTTP/1.1 announces a body with Content-Length or Transfer-Encoding; HTTP/2 by not ending the stream on HEADERS. */
export function requestHasBody(req: DownstreamRequest): boolean {
  if ('stream' in req) return !req.stream.endAfterHeaders;
  const h = req.headers;
  return h['content-length'] !== undefined ? h['content-length'] !== '0' : h['transfer-encoding'] !== undefined;
}

/** Whether the client takes trailers: always over HTTP/2; over HTTP/1.1 only with `TE: trailers` (RFC 9110 §10.1.4). */
export function acceptsTrailers(req: DownstreamRequest): boolean {
  if (req.httpVersionMajor === 2) return true;
  const te = req.headers.te;
  return typeof te === 'string' && te.toLowerCase().includes('trailers');
}

/** A flat [name, value, ...] list as an HTTP/2 header object, connection-specific fields dropped. */
export function h2HeaderObject(status: number, fields: ReadonlyArray<string>, extra: Readonly<Record<string, string | string[] | undefined>> | undefined): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = Object.create(null) as http2.OutgoingHttpHeaders;
  out[HTTP2_HEADER_STATUS] = status;
  const add = (rawName: string, value: string): void => {
    const name = rawName.toLowerCase();
    if (H2_FORBIDDEN.has(name) || name.charCodeAt(0) === 0x3a) return;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  };
  for (let i = 0; i < fields.length; i += 2) add(fields[i] as string, fields[i + 1] as string);
  if (extra !== undefined) {
    for (const name in extra) {
      const v = extra[name];
      if (typeof v === 'string') add(name, v);
      else if (v !== undefined) for (const one of v) add(name, one);
    }
  }
  return out;
}

/** Writes the response head from a flat [name, value, ...] list; over HTTP/2 the compat API sends HEADERS now. */
export function writeResponseHead(res: DownstreamResponse, status: number, fields: string[]): void {
  if (!isH2Response(res)) {
    res.writeHead(status, fields);
    return;
  }
  const headers = h2HeaderObject(status, fields, undefined);
  delete headers[HTTP2_HEADER_STATUS];
  res.writeHead(status, headers);
}

/**
 * A response that is complete with its headers: over HTTP/2 one HEADERS frame with END_STREAM, the
 * shape gRPC calls Trailers-Only (trailer fields merged into it); over HTTP/1.1 a bodiless response.
 */
export function writeHeadersOnly(res: DownstreamResponse, status: number, fields: ReadonlyArray<string>, trailers: Readonly<Record<string, string | string[] | undefined>> | undefined): void {
  if (isH2Response(res)) {
    const stream = res.stream;
    if (stream.destroyed || stream.closed || stream.headersSent) return void res.end();
    stream.respond(h2HeaderObject(status, fields, trailers), { endStream: true });
    // The response is complete; a client still sending is told to stop without error (RFC 9113 §8.1),
    // which also closes the stream for clients that wait for it (gRPC reads the status at close).
    if (!stream.closed) stream.close(NGHTTP2_NO_ERROR);
    return;
  }
  const all = [...fields];
  if (trailers !== undefined) for (const name in trailers) {
    const v = trailers[name];
    if (typeof v === 'string') all.push(name, v);
    else if (v !== undefined) for (const one of v) all.push(name, one);
  }
  if (!hasField(all, 'content-length')) all.push('content-length', '0');
  writeResponseHead(res, status, all);
  res.end();
}

/**
 * Resets the downstream after its response started. A cancel from upstream is passed on as CANCEL (gRPC
 * reports CANCELLED); anything else as INTERNAL_ERROR. HTTP/1.1 can only close the connection.
 */
export function resetDownstream(res: DownstreamResponse, err: Error): void {
  if (!isH2Response(res)) return void res.destroy(err);
  const code = (err as { h2Code?: unknown }).h2Code === NGHTTP2_CANCEL ? NGHTTP2_CANCEL : NGHTTP2_INTERNAL_ERROR;
  if (!res.stream.destroyed) res.stream.close(code);
}

function hasField(fields: ReadonlyArray<string>, lower: string): boolean {
  for (let i = 0; i < fields.length; i += 2) if ((fields[i] as string).toLowerCase() === lower) return true;
  return false;
}
