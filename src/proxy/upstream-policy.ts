// How a route talks to its backend: the request timeout, the per-attempt timeout and the retry policy
// (Gateway API `timeouts` and `retry`, GEP-1742 and GEP-1731, as Istio converts them), plus the
// decisions taken on each attempt's outcome: retry or not, and how long to back off.
import type { UpstreamFailure } from '../errors/upstream-errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt ("attempts" in Gateway API, `num_retries` in Envoy); 0 disables. */
  readonly numRetries: number;
  /** Upstream status codes retried (Envoy `retriable-status-codes`). */
  readonly statusCodes: ReadonlySet<number>;
  /**
   * Retry an attempt that hit the per-attempt timeout. Gateway API: attempts reaching `backendRequest`
   * "SHOULD be canceled ... and the Gateway SHOULD schedule the next retry attempt"; set for routes with
   * an explicit `retry` (we follow the spec there; Envoy with Istio's retry_on would not retry).
   */
  readonly onPerTryTimeout: boolean;
  /** Base backoff interval and its cap (Envoy: 25 ms and 10 × base unless configured). */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /**
   * VirtualService `retries.retryOn` conditions beyond status codes (Envoy's retry_on); absent: connect failures
   * and refused streams are retried, and gRPC CANCELLED / UNAVAILABLE (Istio's default policy).
   */
  readonly retryOn?: RetryConditions;
}

export interface RetryConditions {
  /** `connect-failure` (and `5xx`, `gateway-error`, `reset`, which include it). */
  readonly connectFailure: boolean;
  /** `refused-stream` (also covered by `reset`, `5xx`, `gateway-error`). */
  readonly refusedStream: boolean;
  /** `reset`, `5xx`, `gateway-error`: any failure before response headers, even after the request was sent. */
  readonly reset: boolean;
  /** `grpc-status` values retried (`cancelled` 1, `deadline-exceeded` 4, `resource-exhausted` 8, `internal` 13, `unavailable` 14). */
  readonly grpcStatuses: ReadonlySet<string>;
}

export interface UpstreamPolicy {
  /** Whole transaction, every attempt and backoff included; 0 = no timeout (Istio's default). */
  readonly requestTimeoutMs: number;
  /** Each attempt, until its response is complete; 0 = none. */
  readonly perTryTimeoutMs: number;
  readonly retry: RetryPolicy;
  /** `x-envoy-expected-rq-timeout-ms` sent upstream when a timeout applies, as Envoy does. */
  readonly expectedTimeoutHeader: boolean;
}

/** Envoy's default backoff base interval. */
export const DEFAULT_BACKOFF_MS = 25;

/**
 * Istio's mesh default retry policy, applied to every HTTP route without `retry` (and to Services
 * without routes): 2 retries on connect-failure, refused-stream, unavailable, cancelled and
 * retriable-status-codes [503], previous hosts avoided (istio pilot/pkg/networking/core/route/retry).
 */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  numRetries: 2,
  statusCodes: new Set([503]),
  onPerTryTimeout: false,
  backoffBaseMs: DEFAULT_BACKOFF_MS,
  backoffMaxMs: DEFAULT_BACKOFF_MS * 10,
});

export const NO_RETRY: RetryPolicy = Object.freeze({
  numRetries: 0,
  statusCodes: new Set<number>(),
  onPerTryTimeout: false,
  backoffBaseMs: DEFAULT_BACKOFF_MS,
  backoffMaxMs: DEFAULT_BACKOFF_MS * 10,
});

/** No timeouts, Istio's default retries: what a route without `timeouts`/`retry` gets. */
export const DEFAULT_UPSTREAM_POLICY: UpstreamPolicy = Object.freeze({
  requestTimeoutMs: 0,
  perTryTimeoutMs: 0,
  retry: DEFAULT_RETRY,
  expectedTimeoutHeader: false,
});

/** gRPC status codes Envoy's `cancelled` and `unavailable` retry conditions look for in response headers. */
const GRPC_CANCELLED = '1';
const GRPC_UNAVAILABLE = '14';

/**
 * Whether a response (its status and headers, before any byte went downstream) is worth another attempt:
 * a retriable status code, or a gRPC Trailers-Only response with status CANCELLED or UNAVAILABLE.
 */
export function retriableResponse(policy: RetryPolicy, status: number, headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  if (policy.statusCodes.has(status)) return true;
  const grpc = headers['grpc-status'];
  if (policy.retryOn !== undefined) return typeof grpc === 'string' && policy.retryOn.grpcStatuses.has(grpc);
  return grpc === GRPC_UNAVAILABLE || grpc === GRPC_CANCELLED;
}

/**
 * Whether an attempt that failed before response headers may be retried. Istio's retry_on covers
 * connect-failure and refused-stream: the request provably never reached the application. A reset
 * after the request was sent is not retried (Gateway API: "SHOULD NOT retry by default on failures
 * where the request may have been processed").
 */
export function retriableFailure(failure: UpstreamFailure, policy?: RetryPolicy): boolean {
  const on = policy?.retryOn;
  if (on !== undefined) {
    // Envoy never retries a circuit-breaker overflow.
    if (on.reset) return failure.reason !== 'overflow';
    if (failure.reason === 'remote refused stream reset') return on.refusedStream;
    return on.connectFailure && CONNECT_FAILURES.has(failure.reason);
  }
  switch (failure.reason) {
    case 'remote connection failure':
    case 'connection failure':
    case 'local connection failure':
    case 'connection timeout':
    case 'remote refused stream reset':
      return true;
    default:
      return false;
  }
}

const CONNECT_FAILURES: ReadonlySet<string> = new Set(['remote connection failure', 'connection failure', 'local connection failure', 'connection timeout']);

/**
 * Delay before retry number `retry` (1-based): exponential from the base, with jitter, capped. GEP-1731
 * calls `backoff` the minimum time between attempts, so the jitter only adds: [d, 1.5 d) with
 * d = base × 2^(retry-1), capped at the maximum (Envoy's full jitter could go below the base).
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const d = Math.min(policy.backoffBaseMs * 2 ** Math.max(0, retry - 1), policy.backoffMaxMs);
  return Math.min(Math.floor(d * (1 + random() * 0.5)), Math.max(policy.backoffMaxMs, policy.backoffBaseMs));
}

/**
 * The attempt's headers with `x-envoy-expected-rq-timeout-ms`: the per-attempt timeout, or what is left of
 * the request timeout when that is shorter (Envoy's router sets it so the upstream can bound its own work).
 */
export function withExpectedTimeout(fields: string[], perTryMs: number, remainingMs: number): string[] {
  const expected = perTryMs > 0 && (remainingMs === 0 || perTryMs < remainingMs) ? perTryMs : remainingMs;
  if (expected === 0) return fields;
  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    if ((fields[i] as string).toLowerCase() !== 'x-envoy-expected-rq-timeout-ms') out.push(fields[i] as string, fields[i + 1] as string);
  }
  out.push('x-envoy-expected-rq-timeout-ms', String(expected));
  return out;
}
