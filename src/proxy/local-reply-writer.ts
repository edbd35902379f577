// Writes a LocalReply to the downstream response the way Envoy does (gRPC requests get Trailers-Only).
import type { LocalReply } from '../errors/local-reply.js';
import { type DownstreamResponse, endResponse, writeResponseHead } from '../listener/http2-downstream.js';
import { writeGrpcLocalReply } from './grpc-local-reply.js';
import { isGrpcContentType } from './grpc-protocol.js';

const NO_FIELDS: ReadonlyArray<string> = [];

export function writeLocalReply(res: DownstreamResponse, reply: LocalReply): void {
  if (isGrpcContentType(res.req.headers['content-type'])) return writeGrpcLocalReply(res, reply);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = reply.bodyBytes ?? reply.body;
  const extra = reply.headers ?? NO_FIELDS;
  if (body.length === 0) {
    writeResponseHead(res, reply.status, ['content-length', '0', 'server', 'istio-envoy', ...extra]);
    endResponse(res);
    return;
  }
  // A reply that brings its own content-type (an ext-authz denial) keeps it instead of text/plain.
  const typed = extra.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-type');
  writeResponseHead(res, reply.status, [
    'content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length),
    ...(typed ? NO_FIELDS : ['content-type', 'text/plain']),
    'server', 'istio-envoy',
    ...extra,
  ]);
  endResponse(res, body);
}
