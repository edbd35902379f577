// Request and response sizes for istio_request_bytes / istio_response_bytes ("wire bytes": headers and
// body, as Envoy's downstream bytes meter) and for the access log's body-only %BYTES_RECEIVED%/%BYTES_SENT%.
// HTTP/1.1 on a socket: deltas of the socket's own counters between requests, so nothing is counted per
// chunk. HTTP/2 and tunnelled streams: header sizes (uncompressed, as Envoy's HeaderMap byteSize) plus body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type http2 from 'node:http2';
import type { HttpExchange } from '../proxy/http-exchange.js';

interface Mark {
  read: number;
  written: number;
}

interface CountingSocket {
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/** Results of the last `measure`, kept on the meter so measuring allocates nothing. */
export class WireMeter {
  readonly #marks = new WeakMap<object, Mark>();
  requestWire = 0;
  responseWire = 0;
  requestBody = 0;
  responseBody = 0;
  /**
   * The status code actually sent, as Envoy's %RESPONSE_CODE% and response_code report it: a gRPC local reply
   * is Trailers-Only with `:status 200` (its error is in grpc-status); 0 when nothing was sent.
   */
  status = 0;

  /** `bodies`: also work out the request body size (access logs, spans); metrics need only wire sizes. */
  measure(ex: HttpExchange, bodies: boolean): void {
    const req = ex.req;
    this.responseBody = ex.responseBodyBytes;
    if ('stream' in req) {
      const sent = (ex.res as http2.Http2ServerResponse).stream.sentHeaders as Readonly<Record<string, unknown>> | undefined;
      this.status = sent?.[':status'] === undefined ? ex.status : Number(sent[':status']);
      this.#measureH2(ex, req);
      return;
    }
    const res = ex.res as ServerResponse;
    this.status = res.headersSent ? res.statusCode : ex.status;
    const socket = req.socket as Partial<CountingSocket> | null;
    if (socket !== null && typeof socket.bytesRead === 'number' && typeof socket.bytesWritten === 'number') {
      let mark = this.#marks.get(socket);
      if (mark === undefined) this.#marks.set(socket, (mark = { read: 0, written: 0 }));
      this.requestWire = socket.bytesRead - mark.read;
      this.responseWire = socket.bytesWritten - mark.written;
      mark.read = socket.bytesRead;
      mark.written = socket.bytesWritten;
      this.requestBody = bodies ? Math.max(0, this.requestWire - requestHeadBytes(req)) : 0;
      return;
    }
    // A stream without counters (an HBONE tunnel's HTTP/1.1): what the headers and bodies add up to.
    this.requestBody = contentLength(req.headers['content-length']);
    this.requestWire = requestHeadBytes(req) + this.requestBody;
    const written = Reflect.get(ex.res, '_header');
    this.responseWire = (typeof written === 'string' ? written.length : 0) + this.responseBody;
  }

  #measureH2(ex: HttpExchange, req: http2.Http2ServerRequest): void {
    let head = 0;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) head += (raw[i] as string).length + (raw[i + 1] as string).length;
    const grpc = ex.grpcMessages;
    this.requestBody = grpc !== undefined && grpc.request.bytes > 0 ? grpc.request.bytes : contentLength(req.headers['content-length']);
    this.requestWire = head + this.requestBody;
    const stream = (ex.res as http2.Http2ServerResponse).stream;
    this.responseWire = headerObjectBytes(stream.sentHeaders) + headerObjectBytes(stream.sentTrailers) + this.responseBody;
  }
}

/** `METHOD target HTTP/x.y\r\n`, each `name: value\r\n`, and the blank line, as received. */
export function requestHeadBytes(req: Pick<IncomingMessage, 'method' | 'url' | 'rawHeaders'>): number {
  let n = (req.method ?? '').length + (req.url ?? '').length + 12; // 2 spaces, "HTTP/x.y", CRLF
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) n += (raw[i] as string).length + (raw[i + 1] as string).length + 4;
  return n + 2;
}

function headerObjectBytes(headers: Readonly<Record<string, unknown>> | undefined): number {
  if (headers === undefined) return 0;
  let n = 0;
  for (const name in headers) {
    const v = headers[name];
    if (Array.isArray(v)) for (const x of v) n += name.length + String(x).length;
    else if (v !== undefined) n += name.length + String(v).length;
  }
  return n;
}

function contentLength(v: string | undefined): number {
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}
