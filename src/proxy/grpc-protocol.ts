// gRPC over HTTP/2 facts the proxy needs (grpc/grpc doc/PROTOCOL-HTTP2.md): what a gRPC request is,
// `grpc-timeout`, the HTTP-status to grpc-status mapping Envoy uses, and `grpc-message` encoding.
// Also which HTTP version the upstream hop speaks for a cluster.
import type { PortProtocol } from '../config/snapshot.js';

/** gRPC status codes used by the proxy (grpc/grpc doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  INTERNAL: 13,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** "Content-Type → 'content-type' 'application/grpc' [('+proto' / '+json' / {custom})]". */
export function isGrpcContentType(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && contentType.startsWith('application/grpc') &&
    (contentType.length === 16 || contentType.charCodeAt(16) === 0x2b /* + */ || contentType.charCodeAt(16) === 0x3b /* ; */);
}

const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * "Timeout → 'grpc-timeout' TimeoutValue TimeoutUnit; TimeoutValue → {positive integer as ASCII string of
 * at most 8 digits}; TimeoutUnit → Hours / Minutes / Seconds / Milliseconds / Microseconds / Nanoseconds".
 * Returns milliseconds (at least 1 for a positive value), or undefined when absent or malformed.
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || value.length < 2 || value.length > 9) return undefined;
  const scale = UNIT_MS[value.charAt(value.length - 1)];
  if (scale === undefined) return undefined;
  let n = 0;
  for (let i = 0; i < value.length - 1; i++) {
    const c = value.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return n === 0 ? 0 : Math.max(1, Math.ceil(n * scale));
}

/** Envoy's Grpc::Utility::httpToGrpcStatus (the mapping in grpc's http-grpc-status-mapping.md). */
export function grpcStatusForHttp(status: number): number {
  switch (status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** "Status-Message → 'grpc-message' Percent-Encoded": bytes outside 0x20-0x7E, and '%', as %XX of UTF-8. */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/**
 * The upstream hop's HTTP version. Ports declared `http2`, `grpc` or `kubernetes.io/h2c` speak HTTP/2;
 * `http` speaks HTTP/1.1; undeclared (sniffed) ports use the downstream's version, as Istio's
 * USE_DOWNSTREAM_PROTOCOL clusters do.
 */
export function upstreamProtocolFor(protocol: PortProtocol, downstreamMajor: number): 'h1' | 'h2' {
  if (protocol === 'http2' || protocol === 'grpc') return 'h2';
  if (protocol === 'unknown' && downstreamMajor === 2) return 'h2';
  return 'h1';
}
