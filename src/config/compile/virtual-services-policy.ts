// VirtualService route settings that become data-path configuration without a route table: `timeout` and
// `retries` → UpstreamPolicy (as Istio's retry.ConvertPolicy), `fault` → FaultConfig, `corsPolicy` → CORS config.
import { type FaultConfig } from '../../filters/route/fault-injection.js';
import type { VirtualServiceCorsConfig } from '../../filters/route/virtual-service-cors.js';
import { DEFAULT_BACKOFF_MS, DEFAULT_RETRY, NO_RETRY, type RetryConditions, type RetryPolicy, type UpstreamPolicy } from '../../proxy/upstream-policy.js';
import type { FieldPath } from '../resource.js';
import { GRPC_STATUS_CODES } from '../model/virtual-service-check.js';
import { type CorsPolicy, type HTTPFaultInjection, type HTTPRetry, vsDurationMs } from '../model/virtual-service.js';
import { stringTest } from './virtual-services-match.js';

/** How compile code reports a problem on a VirtualService field (deduplicated by the caller). */
export type Report = (severity: 'error' | 'warning' | 'info', code: string, path: FieldPath, message: string) => void;

/** Envoy's retry_on gRPC conditions and the `grpc-status` each retries. */
const GRPC_RETRY_ON: Readonly<Record<string, string>> = { cancelled: '1', 'deadline-exceeded': '4', 'resource-exhausted': '8', internal: '13', unavailable: '14' };
/** retry_on policies accepted by Istio that this waypoint does not apply (reported). */
const NOT_APPLIED_RETRY_ON: ReadonlySet<string> = new Set(['envoy-ratelimited', 'retriable-headers', 'http3-post-connect-failure']);

/**
 * `timeout` bounds the whole request (0 / absent: none, Istio's default); `retries` absent: the mesh default
 * (2 retries); `attempts` 0 or absent: no retries at all, perTryTimeout included (ConvertPolicy returns nil).
 */
export function virtualServiceUpstreamPolicy(timeout: string | undefined, retries: HTTPRetry | undefined, at: FieldPath, report: Report): UpstreamPolicy | undefined {
  if (timeout === undefined && retries === undefined) return undefined;
  const requestTimeoutMs = timeout === undefined ? 0 : vsDurationMs(timeout);
  const retry = retries === undefined ? DEFAULT_RETRY : (retries.attempts ?? 0) <= 0 ? NO_RETRY : explicitRetry(retries, [...at, 'retries'], report);
  const perTryTimeoutMs = retry === NO_RETRY || retries?.perTryTimeout === undefined ? 0 : vsDurationMs(retries.perTryTimeout);
  if (retries !== undefined && retry === NO_RETRY && retries.perTryTimeout !== undefined) {
    report('warning', 'unsupported-field', [...at, 'retries', 'perTryTimeout'], 'perTryTimeout has no effect without attempts > 0 (as in Istio, attempts 0 disables the retry policy)');
  }
  return Object.freeze({ requestTimeoutMs, perTryTimeoutMs, retry, expectedTimeoutHeader: requestTimeoutMs !== 0 || perTryTimeoutMs !== 0 });
}

function explicitRetry(r: HTTPRetry, at: FieldPath, report: Report): RetryPolicy {
  const base = r.backoff === undefined ? DEFAULT_BACKOFF_MS : vsDurationMs(r.backoff);
  const common = { numRetries: r.attempts ?? 0, backoffBaseMs: base, backoffMaxMs: base * 10 };
  const parts = (r.retryOn ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
  // No retryOn: Istio's default conditions (connect-failure, refused-stream, unavailable, cancelled, 503).
  if (parts.length === 0) return Object.freeze({ ...common, statusCodes: DEFAULT_RETRY.statusCodes, onPerTryTimeout: false });
  const policies = new Set(parts.filter((p) => !/^\d+$/.test(p)));
  const codes = new Set(parts.filter((p) => /^\d+$/.test(p)).map(Number));
  const add = (from: number, to: number): void => {
    for (let c = from; c <= to; c++) codes.add(c);
  };
  if (policies.has('5xx')) add(500, 599);
  if (policies.has('gateway-error')) add(502, 504);
  if (policies.has('retriable-4xx')) codes.add(409);
  const broad = policies.has('5xx') || policies.has('gateway-error') || policies.has('reset');
  const beforeRequest = policies.has('reset-before-request');
  const conditions: RetryConditions = {
    connectFailure: broad || beforeRequest || policies.has('connect-failure'),
    refusedStream: broad || beforeRequest || policies.has('refused-stream'),
    reset: broad,
    grpcStatuses: new Set(Object.entries(GRPC_RETRY_ON).filter(([name]) => policies.has(name)).map(([, code]) => code)),
  };
  for (const p of policies) {
    if (NOT_APPLIED_RETRY_ON.has(p)) report('warning', 'not-yet-applied', [...at, 'retryOn'], `retryOn "${p}" is not applied by this waypoint; the other conditions are`);
  }
  // Envoy retries a per-try timeout under 5xx and gateway-error (it counts as a 504).
  return Object.freeze({ ...common, statusCodes: codes, onPerTryTimeout: policies.has('5xx') || policies.has('gateway-error'), retryOn: conditions });
}

/** Envoy's gRPC → HTTP status mapping (Grpc::Utility::grpcToHttpStatus), for gRPC aborts seen by non-gRPC clients. */
const GRPC_TO_HTTP: ReadonlyArray<number> = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/**
 * Istio's TranslateFault: percentages become per-million fractions; an unset percentage is 0% ("If left
 * unspecified, no request will be delayed/aborted"), said in an info diagnostic. `http2Error` is not applied.
 */
export function faultConfig(f: HTTPFaultInjection, at: FieldPath, report: Report, random: () => number): FaultConfig | undefined {
  const d = f.delay;
  const delay = d?.fixedDelay === undefined ? undefined : { delayMs: vsDurationMs(d.fixedDelay), perMillion: perMillion(d.percentage?.value ?? d.percent ?? 0) };
  if (d !== undefined && d.percentage === undefined && d.percent === undefined) {
    report('info', 'fault-percentage-unset', [...at, 'delay'], 'delay has no percentage, so no request is delayed (Istio\'s default); set percentage.value');
  }
  const a = f.abort;
  let abort: FaultConfig['abort'];
  if (a !== undefined) {
    if (a.percentage === undefined) report('info', 'fault-percentage-unset', [...at, 'abort'], 'abort has no percentage, so no request is aborted (Istio\'s default); set percentage.value');
    if (a.http2Error !== undefined) {
      report('warning', 'unsupported-field', [...at, 'abort', 'http2Error'], 'http2Error aborts are not supported by this waypoint; the abort is not applied');
    } else {
      const grpc = a.grpcStatus === undefined ? undefined : GRPC_STATUS_CODES.get(a.grpcStatus);
      const status = a.httpStatus ?? GRPC_TO_HTTP[grpc ?? 2] ?? 500;
      abort = { status, grpcStatus: grpc, perMillion: perMillion(a.percentage?.value ?? 0) };
    }
  }
  if (delay === undefined && abort === undefined) return undefined;
  return Object.freeze({ delay, abort, random });
}

/** A 0-100 percentage as Envoy's FractionalPercent over a million. */
export function perMillion(percent: number): number {
  return Math.round(percent * 10_000);
}

/** Istio's TranslateCORSPolicy: lists joined with `,`, maxAge in seconds, `allowOrigin` (deprecated) as exact matches. */
export function corsConfig(c: CorsPolicy): VirtualServiceCorsConfig {
  const origins = [
    ...(c.allowOrigins ?? []).map((o) => stringTest(o)),
    ...(c.allowOrigin ?? []).map((o) => (o === '*' ? { test: (): boolean => true } : stringTest({ exact: o }))),
  ];
  const join = (list: ReadonlyArray<string> | undefined): string | undefined => (list === undefined || list.length === 0 ? undefined : list.join(','));
  return Object.freeze({
    origins,
    allowMethods: join(c.allowMethods),
    allowHeaders: join(c.allowHeaders),
    exposeHeaders: join(c.exposeHeaders),
    maxAge: c.maxAge === undefined ? undefined : String(Math.floor(vsDurationMs(c.maxAge) / 1000)),
    allowCredentials: c.allowCredentials === true,
    unmatchedPreflights: c.unmatchedPreflights === 'IGNORE' ? 'IGNORE' : 'FORWARD',
  });
}
