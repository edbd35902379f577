// Classifies upstream client errors (undici, sockets) into Envoy reset reasons where they are created.
import type { ResetReason } from './local-reply.js';
import { tlsFailureReason } from '../upstream/tls/tls-errors.js';

export interface UpstreamFailure {
  readonly reason: ResetReason;
  readonly transportFailure: string | undefined;
}

const SYSCALL_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'delayed connect error: Connection refused',
  EHOSTUNREACH: 'delayed connect error: No route to host',
  ENETUNREACH: 'delayed connect error: Network is unreachable',
  EADDRNOTAVAIL: 'delayed connect error: Cannot assign requested address',
};

export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = errorCode(err);
  const connectText = SYSCALL_TEXT[code];
  if (connectText !== undefined) return { reason: 'remote connection failure', transportFailure: connectText };
  // DestinationRule TLS origination: a failed handshake or certificate check (upstream/tls/tls-errors.ts).
  const tlsText = tlsFailureReason(code);
  if (tlsText !== undefined) return { reason: 'connection failure', transportFailure: tlsText };
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return { reason: 'connection timeout', transportFailure: undefined };
    case 'ECONNRESET':
      return { reason: 'remote reset', transportFailure: undefined };
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return { reason: 'connection termination', transportFailure: undefined };
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'UND_ERR_INFO':
      return { reason: 'protocol error', transportFailure: undefined };
    case 'UND_ERR_ABORTED':
      return { reason: 'local reset', transportFailure: undefined };
    // HTTP/2 upstream pool (upstream/h2-request.ts, h2-pool.ts).
    case 'H2_REFUSED_STREAM':
      return { reason: 'remote refused stream reset', transportFailure: undefined };
    case 'H2_OVERFLOW':
      return { reason: 'overflow', transportFailure: undefined };
    case 'H2_PING_TIMEOUT':
      return { reason: 'connection termination', transportFailure: 'keepalive PING timeout' };
    // HBONE outbound (hbone/hbone-client.ts): the tunnel to the destination was refused or it was not
    // who it should be; Envoy reports a failed tunnel as a connection failure (UF).
    case 'ERR_HBONE_CONNECT_REFUSED':
    case 'ERR_HBONE_PEER_IDENTITY':
      return { reason: 'remote connection failure', transportFailure: err instanceof Error ? err.message : undefined };
    default:
      return { reason: 'connection termination', transportFailure: undefined };
  }
}

function errorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return '';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
  // undici wraps socket errors; the syscall error is in `cause`.
  const cause = (err as { cause?: unknown }).cause;
  if (typeof cause === 'object' && cause !== null) {
    const inner = (cause as { code?: unknown }).code;
    if (typeof inner === 'string') return inner;
  }
  return typeof code === 'string' ? code : '';
}
