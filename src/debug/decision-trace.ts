// The decision trace of one finished request: which listener, service port, route rule and match, backend,
// endpoint, authorization policies, JWT result and response flags decided it, as plain JSON with secrets
// redacted. Recording is split in two so the data path stays cheap: when a request finishes, `traceSeedOf`
// copies a few scalars and references to data that no longer changes (never the exchange, its sockets or
// buffers); the heavy part (header redaction, policy re-evaluation, JSON shapes) runs only when a trace is read.
import { performance } from 'node:perf_hooks';
import type { RouteEntry } from '../config/snapshot.js';
import type { HttpExchange, RequestAuth } from '../proxy/http-exchange.js';
import { type AuthzRecord, authzRecordOf } from '../security/authz/authz-record.js';
import { AuthzInput, type AuthzRequest } from '../security/authz/authz-input.js';
import type { CompiledPolicy } from '../security/authz/compiled-policy.js';
import { RbacFilter } from '../security/authz/rbac-filter.js';
import { redactHeaders, redactPath } from './redact.js';

export interface PolicyTrace {
  /** `namespace/name`. */
  readonly policy: string;
  readonly action: string;
  readonly dryRun: boolean;
  /** The Envoy policy id (`ns[..]-policy[..]-rule[i]`) of the first rule that matched, if any. */
  readonly matchedRule: string | undefined;
  /** What this policy did to the request. */
  readonly outcome: 'denied' | 'allowed' | 'no-match' | 'audited' | 'would-deny' | 'would-allow' | 'custom' | 'not-evaluated';
}

export interface DecisionTrace {
  readonly id: number;
  /** Wall-clock time the request finished, ISO 8601. */
  readonly time: string;
  readonly request: {
    readonly method: string;
    readonly authority: string;
    readonly path: string;
    readonly headers: Readonly<Record<string, string>>;
  };
  readonly source: { readonly address: string; readonly principal: string | undefined };
  readonly listener: string;
  readonly service: string;
  readonly port: { readonly name: string; readonly port: number; readonly protocol: string };
  readonly route: {
    readonly name: string;
    readonly httpRoute: string;
    readonly rule: number;
    readonly match: number;
    readonly matchSpec: unknown;
  } | undefined;
  readonly backend: { readonly cluster: string | undefined; readonly endpoint: string | undefined; readonly attempts: number };
  readonly authorization: ReadonlyArray<PolicyTrace>;
  readonly extAuthz: ReadonlyArray<{ readonly provider: string; readonly policyId: string; readonly result: string }>;
  readonly jwt: { readonly principal: string; readonly audiences: ReadonlyArray<string> } | undefined;
  readonly response: { readonly status: number; readonly flags: string; readonly details: string; readonly grpcStatus: number | undefined };
  readonly timings: { readonly totalMs: number; readonly upstreamMs: number | undefined };
}

/**
 * What a finished request leaves behind for its trace. Everything here is either a scalar or an object that
 * nothing changes after the response (the compiled listener and route, the connection context, the request
 * header objects), so holding a few hundred seeds costs little memory and no copying.
 */
export interface TraceSeed extends AuthzRequest {
  readonly id: number;
  /** Date.now() when the request finished. */
  readonly finishedAt: number;
  readonly totalMs: number;
  /** The request as received (before filters and rewrites). */
  readonly received: { readonly method: string; readonly url: string; readonly headers: Readonly<Record<string, string | string[] | undefined>> };
  readonly route: RouteEntry | undefined;
  readonly clusterId: string | undefined;
  readonly upstreamHost: string | undefined;
  readonly attempts: number;
  readonly status: number;
  readonly flag: string | undefined;
  readonly details: string;
  readonly grpcStatus: number | undefined;
  readonly upstreamMs: number | undefined;
  readonly authzRecord: AuthzRecord | undefined;
}

/** Called when `ex` is over: O(1), a flat copy; the trace itself is built by `traceFromSeed` on demand. */
export function traceSeedOf(ex: HttpExchange, id: number): TraceSeed {
  const req = ex.req;
  return {
    id,
    finishedAt: Date.now(),
    totalMs: performance.now() - ex.startMs,
    received: { method: req.method ?? ex.method, url: req.url ?? ex.path, headers: req.headers },
    req: { headers: { host: req.headers.host } },
    conn: ex.conn,
    listener: ex.listener,
    method: ex.method,
    path: ex.path,
    requestHeaders: ex.requestHeaders,
    requestAuth: ex.requestAuth,
    route: ex.route,
    clusterId: ex.clusterId,
    upstreamHost: ex.upstreamHost,
    attempts: ex.attempts,
    status: ex.status,
    flag: ex.flag,
    details: ex.details,
    grpcStatus: ex.grpcStatus,
    upstreamMs: ex.upstreamServiceTimeMs,
    authzRecord: authzRecordOf(ex),
  };
}

/** The trace of `ex`, once its response is over (built at once: /debug/tap streams it immediately). */
export function buildDecisionTrace(ex: HttpExchange, id: number): DecisionTrace {
  return traceFromSeed(traceSeedOf(ex, id));
}

export function traceFromSeed(seed: TraceSeed): DecisionTrace {
  const route = seed.route;
  const sp = seed.listener.servicePort;
  const auth: RequestAuth | undefined = seed.requestAuth;
  const h = seed.received.headers;
  return {
    id: seed.id,
    time: new Date(seed.finishedAt).toISOString(),
    request: {
      method: seed.received.method,
      authority: headerOf(h[':authority'] ?? h.host),
      path: redactPath(seed.received.url),
      headers: redactHeaders(h),
    },
    source: { address: seed.conn.remoteAddress, principal: seed.conn.peerPrincipal },
    listener: seed.listener.key,
    service: seed.listener.service.key,
    port: { name: sp.name, port: sp.port, protocol: sp.protocol },
    route: route === undefined ? undefined : { name: route.name, httpRoute: route.route, rule: route.ruleIndex, match: route.matchIndex, matchSpec: route.matchSpec },
    backend: { cluster: seed.clusterId, endpoint: seed.upstreamHost, attempts: seed.attempts },
    authorization: policyTraces(seed),
    extAuthz: seed.authzRecord?.extAuthz ?? [],
    jwt: auth === undefined ? undefined : { principal: auth.principal, audiences: auth.audiences },
    response: { status: seed.status, flags: seed.flag ?? '-', details: seed.details, grpcStatus: seed.grpcStatus },
    timings: {
      totalMs: Math.round(seed.totalMs * 100) / 100,
      upstreamMs: seed.upstreamMs,
    },
  };
}

/**
 * Every AuthorizationPolicy enforced on the port, re-evaluated against the request as the RBAC filter saw
 * it (its rules are pure predicates over the connection and request headers). The deciding policy comes
 * from the response details when RBAC denied, so the trace names the same rule Envoy's details do.
 */
function policyTraces(ex: TraceSeed): PolicyTrace[] {
  const rbac = ex.listener.servicePort.filters.find((f): f is RbacFilter => f instanceof RbacFilter);
  if (rbac === undefined || rbac.policies.length === 0) return [];
  const input = AuthzInput.forRequest(ex);
  const denied = /^rbac_access_denied_matched_policy\[(.*)\]$/.exec(ex.details)?.[1];
  // CUSTOM (ext-authz) and JWT authentication run before RBAC in Istio's order: a denial there means RBAC never ran.
  const before = ex.details.startsWith('jwt_authn_access_denied') || ex.details.startsWith('ext_authz') || ex.flag === 'UAEX';
  const out: PolicyTrace[] = [];
  for (const p of rbac.policies) {
    out.push(before ? { policy: p.key, action: p.action, dryRun: p.dryRun, matchedRule: undefined, outcome: 'not-evaluated' } : policyTrace(p, input, denied));
  }
  return out;
}

function policyTrace(p: CompiledPolicy, input: AuthzInput, deniedBy: string | undefined): PolicyTrace {
  let matchedRule: string | undefined;
  for (const r of p.http) {
    if (r.match(input)) {
      matchedRule = r.id;
      break;
    }
  }
  if (deniedBy !== undefined && p.http.some((r) => r.id === deniedBy)) matchedRule = deniedBy;
  const base = { policy: p.key, action: p.action, dryRun: p.dryRun, matchedRule };
  if (matchedRule === undefined) return { ...base, outcome: 'no-match' };
  if (p.action === 'AUDIT') return { ...base, outcome: 'audited' };
  if (p.action === 'CUSTOM') return { ...base, outcome: 'custom' };
  if (p.dryRun) return { ...base, outcome: p.action === 'DENY' ? 'would-deny' : 'would-allow' };
  return { ...base, outcome: p.action === 'DENY' ? 'denied' : 'allowed' };
}

function headerOf(v: string | string[] | undefined): string {
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}
