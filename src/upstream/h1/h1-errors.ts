// Errors of the HTTP/1.1 upstream pool, with the codes classifyUpstreamError (errors/upstream-errors.ts) maps to
// Envoy reset reasons: the same codes undici and llhttp use, so every local reply stays what it was.

/** An upstream failure carrying the code classifyUpstreamError understands. */
export interface H1UpstreamError extends Error {
  code: string;
}

export function h1Error(message: string, code: string, cause?: unknown): H1UpstreamError {
  const err = new Error(message, cause === undefined ? undefined : { cause }) as H1UpstreamError;
  err.code = code;
  return err;
}

/** The connection closed (FIN) before the response was complete: Envoy's "connection termination". */
export const SOCKET_CLOSED = 'UND_ERR_SOCKET';
/** connectionPool.tcp.connectTimeout passed: "connection timeout". */
export const CONNECT_TIMEOUT = 'UND_ERR_CONNECT_TIMEOUT';
/** The pool was closed or destroyed under a request. */
export const POOL_CLOSED = 'UND_ERR_CLOSED';
export const POOL_DESTROYED = 'UND_ERR_DESTROYED';
/** A request the pool refuses to serialize (a CR or LF in a header value would split the request). */
export const INVALID_ARGUMENT = 'UND_ERR_INVALID_ARG';
/** Response head larger than the limit. */
export const HEADERS_OVERFLOW = 'UND_ERR_HEADERS_OVERFLOW';
// llhttp's codes for malformed responses (a bad status line maps to Envoy's "protocol error").
export const INVALID_CONSTANT = 'HPE_INVALID_CONSTANT';
export const INVALID_STATUS = 'HPE_INVALID_STATUS';
export const INVALID_HEADER_TOKEN = 'HPE_INVALID_HEADER_TOKEN';
export const INVALID_CONTENT_LENGTH = 'HPE_UNEXPECTED_CONTENT_LENGTH';
export const INVALID_CHUNK_SIZE = 'HPE_INVALID_CHUNK_SIZE';
export const STRICT = 'HPE_STRICT';
