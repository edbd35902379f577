// Local replies to gRPC requests, as Envoy sends them: a Trailers-Only response (HTTP 200,
// `content-type: application/grpc`, `grpc-status` mapped from the HTTP status, `grpc-message` = the body).
import type { LocalReply } from '../errors/local-reply.js';
import { type DownstreamResponse, isH2Response, resetDownstream, writeHeadersOnly } from '../listener/http2-downstream.js';
import { encodeGrpcMessage, GrpcStatus, grpcStatusForHttp } from './grpc-protocol.js';

export function writeGrpcLocalReply(res: DownstreamResponse, reply: LocalReply): void {
  if (res.headersSent) {
    if (isH2Response(res)) resetDownstream(res, new Error(reply.details));
    else res.destroy();
    return;
  }
  const status = reply.grpcStatus ?? grpcStatusForHttp(reply.status);
  const fields = ['content-type', 'application/grpc', 'grpc-status', String(status)];
  if (reply.body !== '') fields.push('grpc-message', encodeGrpcMessage(reply.body));
  fields.push('server', 'istio-envoy');
  writeHeadersOnly(res, 200, fields, undefined);
}

/** Details of the replies a GRPCRoute gives for backends it cannot use (invalid, all weights zero, filters not applied). */
const UNUSABLE_BACKEND = new Set(['cluster_not_found', 'direct_response', 'filter_not_supported']);

/**
 * GRPCRoute: "requests that would have been sent to [an invalid backend] MUST receive a response with
 * status UNAVAILABLE" (Gateway API spec; Istio answers HTTP 500, which maps to UNKNOWN). We follow the spec.
 */
export function grpcRouteReply(reply: LocalReply): LocalReply {
  if (reply.status !== 500 || !UNUSABLE_BACKEND.has(reply.details) || reply.grpcStatus !== undefined) return reply;
  return Object.freeze({ ...reply, grpcStatus: GrpcStatus.UNAVAILABLE });
}
