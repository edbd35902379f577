// Compiles a rule's `timeouts` and `retry` into the UpstreamPolicy the data plane runs, the way Istio
// converts them (pilot/pkg/config/kube/gateway conversion): `backendRequest` is the per-attempt timeout
// only when `retry` is set, otherwise it bounds the whole request; no `retry` means the mesh default.
import { DEFAULT_BACKOFF_MS, DEFAULT_RETRY, type RetryPolicy, type UpstreamPolicy } from '../../proxy/upstream-policy.js';
import { durationMs } from '../model/gateway-api.js';
import type { HTTPRouteRule } from '../model/http-route.js';
import type { RuleProblem } from './route-filters.js';

export type CompiledPolicy =
  | { readonly ok: true; readonly policy: UpstreamPolicy | undefined }
  | { readonly ok: false; readonly problem: RuleProblem; readonly field: 'timeouts' | 'retry' };

export function compileUpstreamPolicy(rule: Pick<HTTPRouteRule, 'timeouts' | 'retry'>): CompiledPolicy {
  const { timeouts, retry } = rule;
  if (timeouts === undefined && retry === undefined) return { ok: true, policy: undefined };
  const request = timeouts?.request === undefined ? 0 : durationMs(timeouts.request);
  const backend = timeouts?.backendRequest === undefined ? 0 : durationMs(timeouts.backendRequest);
  // CEL: "backendRequest timeout cannot be longer than request timeout" (a request of 0s disables it).
  if (request !== 0 && backend > request) {
    return { ok: false, field: 'timeouts', problem: { condition: 'Accepted', reason: 'UnsupportedValue', message: `backendRequest timeout (${timeouts?.backendRequest ?? ''}) cannot be longer than request timeout (${timeouts?.request ?? ''})` } };
  }
  const explicit = retry === undefined ? undefined : explicitRetry(retry);
  const policy: UpstreamPolicy = Object.freeze({
    // Istio: without `retry`, a non-zero backendRequest becomes the route timeout (it is ≤ request anyway).
    requestTimeoutMs: explicit === undefined && backend !== 0 ? backend : request,
    perTryTimeoutMs: explicit === undefined ? 0 : backend,
    retry: explicit ?? DEFAULT_RETRY,
    expectedTimeoutHeader: request !== 0 || backend !== 0,
  });
  return { ok: true, policy };
}

/**
 * Istio for a rule with `retry`: retry_on connect-failure, refused-stream, unavailable, cancelled plus the
 * listed codes; attempts default 2, 0 disables; backoff is Envoy's base interval. Per-attempt timeouts are
 * retried as the Gateway API spec asks (see RetryPolicy.onPerTryTimeout).
 */
function explicitRetry(retry: NonNullable<HTTPRouteRule['retry']>): RetryPolicy {
  const base = retry.backoff === undefined ? DEFAULT_BACKOFF_MS : durationMs(retry.backoff);
  return Object.freeze({
    numRetries: retry.attempts ?? 2,
    statusCodes: new Set(retry.codes ?? []),
    onPerTryTimeout: true,
    backoffBaseMs: base,
    backoffMaxMs: base * 10,
  });
}

/** `10s`, `250ms`: how /config_dump shows a policy. */
export function describePolicy(p: UpstreamPolicy): Record<string, unknown> {
  return {
    ...(p.requestTimeoutMs === 0 ? {} : { timeout: `${p.requestTimeoutMs}ms` }),
    ...(p.perTryTimeoutMs === 0 ? {} : { perTryTimeout: `${p.perTryTimeoutMs}ms` }),
    retry: {
      attempts: p.retry.numRetries,
      codes: [...p.retry.statusCodes].sort((a, b) => a - b),
      backoff: `${p.retry.backoffBaseMs}ms`,
      ...(p.retry.onPerTryTimeout ? { onPerTryTimeout: true } : {}),
      // VirtualService retryOn conditions besides status codes (absent: Istio's default ones).
      ...(p.retry.retryOn === undefined ? {} : {
        retryOn: {
          connectFailure: p.retry.retryOn.connectFailure, refusedStream: p.retry.retryOn.refusedStream, reset: p.retry.retryOn.reset,
          grpcStatuses: [...p.retry.retryOn.grpcStatuses].sort(),
        },
      }),
    },
  };
}
