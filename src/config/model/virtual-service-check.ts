// Istio's VirtualService admission checks beyond the schema (pkg/config/validation): oneofs, ranges, regexes
// compiled now (RE2 syntax), header name rules. Any failure rejects the VirtualService whole, with the field.
import { compileFullMatchRegex } from '../../router/match/regex.js';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { FieldPath, RawResource } from '../resource.js';
import { type CorsPolicy, type HTTPFaultInjection, type HTTPMatchRequest, type StringMatch, type VirtualServiceSpec, type VsHttpRoute, vsDurationMs } from './virtual-service.js';

/** Envoy's retry_on policies Istio accepts in `retries.retryOn` (besides HTTP status codes). */
export const RETRY_ON_POLICIES: ReadonlySet<string> = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'envoy-ratelimited', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

/** gRPC status names `fault.abort.grpcStatus` accepts, with their codes. */
export const GRPC_STATUS_CODES: ReadonlyMap<string, number> = new Map([
  ['OK', 0], ['CANCELLED', 1], ['UNKNOWN', 2], ['INVALID_ARGUMENT', 3], ['DEADLINE_EXCEEDED', 4], ['NOT_FOUND', 5],
  ['ALREADY_EXISTS', 6], ['PERMISSION_DENIED', 7], ['RESOURCE_EXHAUSTED', 8], ['FAILED_PRECONDITION', 9], ['ABORTED', 10],
  ['OUT_OF_RANGE', 11], ['UNIMPLEMENTED', 12], ['INTERNAL', 13], ['UNAVAILABLE', 14], ['DATA_LOSS', 15], ['UNAUTHENTICATED', 16],
]);

const REDIRECT_CODES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
const HEADER_NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
/** Istio caps a direct response body at 100 KiB. */
export const MAX_DIRECT_RESPONSE_BYTES = 100 * 1024;

type Fail = (path: FieldPath, message: string) => void;

/** Runs every check; false means the VirtualService is rejected (each problem already reported). */
export function checkVirtualService(res: RawResource, spec: VirtualServiceSpec, out: Diagnostic[]): boolean {
  let ok = true;
  const fail: Fail = (path, message) => {
    out.push(resourceDiagnostic(res, 'error', 'invalid-field', path, message));
    ok = false;
  };
  const hosts = spec.hosts ?? [];
  if (hosts.length === 0) fail(['spec', 'hosts'], 'at least one host is required (a waypoint has no use for a delegate VirtualService)');
  const mesh = spec.gateways === undefined || spec.gateways.length === 0 || spec.gateways.includes('mesh');
  hosts.forEach((h, i) => {
    if (h === '*' && mesh) fail(['spec', 'hosts', i], 'wildcard host * is not allowed for virtual services bound to the mesh gateway');
    else if (h.slice(1).includes('*') || (h.startsWith('*') && h !== '*' && !h.startsWith('*.'))) fail(['spec', 'hosts', i], `host "${h}": a wildcard is only allowed as the first label ("*.example.com")`);
  });
  spec.http?.forEach((r, i) => checkHttpRoute(r, ['spec', 'http', i], fail));
  return ok;
}

function checkHttpRoute(r: VsHttpRoute, at: FieldPath, fail: Fail): void {
  const routes = r.route ?? [];
  if (r.redirect !== undefined && routes.length > 0) fail([...at, 'redirect'], 'HTTP route cannot contain both route and redirect');
  if (r.directResponse !== undefined && (routes.length > 0 || r.redirect !== undefined)) fail([...at, 'directResponse'], 'HTTP route cannot contain directResponse together with route or redirect');
  if (r.redirect !== undefined && r.rewrite !== undefined) fail([...at, 'rewrite'], 'HTTP route cannot contain both rewrite and redirect');
  if (routes.length === 0 && r.redirect === undefined && r.directResponse === undefined && r.delegate === undefined) {
    fail(at, 'HTTP route or redirect or directResponse is required');
  }
  if (r.mirror !== undefined && r.mirrors !== undefined) fail([...at, 'mirrors'], 'cannot specify both mirror and mirrors');
  r.match?.forEach((m, j) => checkMatch(m, [...at, 'match', j], fail));
  const redirect = r.redirect;
  if (redirect !== undefined) {
    if (redirect.redirectCode !== undefined && redirect.redirectCode !== 0 && !REDIRECT_CODES.has(redirect.redirectCode)) {
      fail([...at, 'redirect', 'redirectCode'], `redirect code ${redirect.redirectCode} is not a redirect: use 301, 302, 303, 307 or 308`);
    }
    if (redirect.port !== undefined && redirect.derivePort !== undefined) fail([...at, 'redirect', 'derivePort'], 'set either port or derivePort, not both');
    if (redirect.uri === '' || redirect.authority === '') fail([...at, 'redirect'], 'redirect uri and authority must not be empty when set');
  }
  const direct = r.directResponse;
  if (direct !== undefined) {
    if (direct.status < 200 || direct.status > 599) fail([...at, 'directResponse', 'status'], `status ${direct.status} must be between 200 and 599`);
    const body = direct.body;
    if (body !== undefined) {
      if ((body.string === undefined) === (body.bytes === undefined)) fail([...at, 'directResponse', 'body'], 'set exactly one of string and bytes');
      const size = body.string !== undefined ? Buffer.byteLength(body.string) : Buffer.from(body.bytes ?? '', 'base64').length;
      if (size > MAX_DIRECT_RESPONSE_BYTES) fail([...at, 'directResponse', 'body'], `body is ${size} bytes, over the ${MAX_DIRECT_RESPONSE_BYTES} bytes allowed`);
      if (body.bytes !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(body.bytes)) fail([...at, 'directResponse', 'body', 'bytes'], 'bytes must be base64');
    }
  }
  const rewrite = r.rewrite;
  if (rewrite?.uriRegexRewrite !== undefined) {
    if (rewrite.uri !== undefined) fail([...at, 'rewrite', 'uriRegexRewrite'], 'set either uri or uriRegexRewrite, not both');
    regex(rewrite.uriRegexRewrite.match, [...at, 'rewrite', 'uriRegexRewrite', 'match'], fail);
  }
  if (r.timeout !== undefined) minDuration(r.timeout, [...at, 'timeout'], fail);
  const retries = r.retries;
  if (retries?.perTryTimeout !== undefined) minDuration(retries.perTryTimeout, [...at, 'retries', 'perTryTimeout'], fail);
  if (retries?.retryOn !== undefined) {
    for (const part of retries.retryOn.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const code = Number(part);
      if (Number.isInteger(code) ? (code < 100 || code > 599) : !RETRY_ON_POLICIES.has(part)) {
        fail([...at, 'retries', 'retryOn'], `"${part}" is not a retry policy: use Envoy's (${[...RETRY_ON_POLICIES].join(', ')}) or an HTTP status code`);
      }
    }
  }
  if (r.fault !== undefined) checkFault(r.fault, [...at, 'fault'], fail);
  if (r.corsPolicy !== undefined) checkCors(r.corsPolicy, [...at, 'corsPolicy'], fail);
  if (routes.length > 1 && routes.every((d) => (d.weight ?? 0) === 0)) {
    fail([...at, 'route'], 'with several destinations the weights must not all be 0 (Istio sends no traffic to a 0 weight): set weight on each');
  }
  r.route?.forEach((d, k) => {
    if (d.destination.host.includes('*')) fail([...at, 'route', k, 'destination', 'host'], 'a destination host cannot be a wildcard');
  });
}

function checkMatch(m: HTTPMatchRequest, at: FieldPath, fail: Fail): void {
  for (const field of ['uri', 'scheme', 'method', 'authority'] as const) {
    const s = m[field];
    if (s === undefined) continue;
    if (oneofCount(s) === 0) fail([...at, field], `${field} match must set exact, prefix or regex`);
    stringMatchCheck(s, [...at, field], fail);
  }
  if (m.method?.exact !== undefined && !METHODS.has(m.method.exact)) fail([...at, 'method', 'exact'], `"${m.method.exact}" is not an HTTP method`);
  for (const field of ['headers', 'withoutHeaders', 'queryParams'] as const) {
    for (const [name, s] of Object.entries(m[field] ?? {})) {
      if (field !== 'queryParams') {
        // Istio: "header match ... must be lowercase"; pseudo headers other than :authority cannot be matched here.
        if (name !== name.toLowerCase()) fail([...at, field, name], `header name "${name}" must be lowercase`);
        else if (name.startsWith(':') ? name !== ':authority' : !HEADER_NAME.test(name)) fail([...at, field, name], `"${name}" is not a header name this waypoint can match`);
      }
      stringMatchCheck(s, [...at, field, name], fail);
    }
  }
}

function checkFault(f: HTTPFaultInjection, at: FieldPath, fail: Fail): void {
  if (f.delay === undefined && f.abort === undefined) fail(at, 'fault must have at least delay or abort');
  const d = f.delay;
  if (d !== undefined) {
    if (d.exponentialDelay !== undefined) fail([...at, 'delay', 'exponentialDelay'], 'exponentialDelay is not supported (as in Istio): use fixedDelay');
    if (d.fixedDelay === undefined) fail([...at, 'delay'], 'delay needs fixedDelay');
    else minDuration(d.fixedDelay, [...at, 'delay', 'fixedDelay'], fail);
    if (d.percent !== undefined && d.percentage !== undefined) fail([...at, 'delay', 'percent'], 'set either percentage or the deprecated percent, not both');
  }
  const a = f.abort;
  if (a !== undefined) {
    const kinds = [a.httpStatus, a.grpcStatus, a.http2Error].filter((v) => v !== undefined).length;
    if (kinds !== 1) fail([...at, 'abort'], 'abort needs exactly one of httpStatus, grpcStatus and http2Error');
    if (a.httpStatus !== undefined && (a.httpStatus < 200 || a.httpStatus > 599)) fail([...at, 'abort', 'httpStatus'], `httpStatus ${a.httpStatus} must be between 200 and 599`);
    if (a.grpcStatus !== undefined && !GRPC_STATUS_CODES.has(a.grpcStatus)) fail([...at, 'abort', 'grpcStatus'], `"${a.grpcStatus}" is not a gRPC status name (e.g. UNAVAILABLE)`);
  }
}

function checkCors(c: CorsPolicy, at: FieldPath, fail: Fail): void {
  c.allowOrigins?.forEach((o, i) => {
    if (oneofCount(o) === 0) fail([...at, 'allowOrigins', i], 'origin match must set exact, prefix or regex');
    stringMatchCheck(o, [...at, 'allowOrigins', i], fail);
  });
  c.allowMethods?.forEach((m, i) => {
    if (!METHODS.has(m)) fail([...at, 'allowMethods', i], `"${m}" is not an HTTP method`);
  });
  if (c.maxAge !== undefined && vsDurationMs(c.maxAge) % 1000 !== 0) fail([...at, 'maxAge'], 'maxAge must be whole seconds');
}

function oneofCount(s: StringMatch): number {
  return [s.exact, s.prefix, s.regex].filter((v) => v !== undefined).length;
}

function stringMatchCheck(s: StringMatch, at: FieldPath, fail: Fail): void {
  if (oneofCount(s) > 1) fail(at, 'set only one of exact, prefix and regex');
  if (s.regex !== undefined) regex(s.regex, [...at, 'regex'], fail);
}

function regex(pattern: string, at: FieldPath, fail: Fail): void {
  const r = compileFullMatchRegex(pattern);
  if (!r.ok) fail(at, r.message);
}

function minDuration(value: string, at: FieldPath, fail: Fail): void {
  if (vsDurationMs(value) < 1) fail(at, `duration ${value} must be at least 1ms`);
}
