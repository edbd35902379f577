// The decision trace of one finished request: which listener, service port, route rule and match, backend,
// endpoint, authorization policies, JWT result and response flags decided it. Built by the exchange
// observer after the response (never on the hot path), as plain JSON with secrets redacted.
import { performance } from 'node:perf_hooks';
import type { HttpExchange } from '../proxy/http-exchange.js';
import { authzRecordOf } from '../security/authz/authz-record.js';
import { AuthzInput } from '../security/authz/authz-input.js';
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

/** The trace of `ex`, once its response is over. */
export function buildDecisionTrace(ex: HttpExchange, id: number): DecisionTrace {
  const route = ex.route;
  const sp = ex.listener.servicePort;
  const auth = ex.requestAuth;
  return {
    id,
    time: new Date().toISOString(),
    request: {
      method: ex.req.method ?? ex.method,
      authority: headerOf(ex.req.headers[':authority'] ?? ex.req.headers.host),
      path: redactPath(ex.req.url ?? ex.path),
      headers: redactHeaders(ex.req.headers),
    },
    source: { address: ex.conn.remoteAddress, principal: ex.conn.peerPrincipal },
    listener: ex.listener.key,
    service: ex.listener.service.key,
    port: { name: sp.name, port: sp.port, protocol: sp.protocol },
    route: route === undefined ? undefined : { name: route.name, httpRoute: route.route, rule: route.ruleIndex, match: route.matchIndex, matchSpec: route.matchSpec },
    backend: { cluster: ex.clusterId, endpoint: ex.upstreamHost, attempts: ex.attempts },
    authorization: policyTraces(ex),
    extAuthz: authzRecordOf(ex)?.extAuthz ?? [],
    jwt: auth === undefined ? undefined : { principal: auth.principal, audiences: auth.audiences },
    response: { status: ex.status, flags: ex.flag ?? '-', details: ex.details, grpcStatus: ex.grpcStatus },
    timings: {
      totalMs: Math.round((performance.now() - ex.startMs) * 100) / 100,
      upstreamMs: ex.upstreamServiceTimeMs,
    },
  };
}

/**
 * Every AuthorizationPolicy enforced on the port, re-evaluated against the request as the RBAC filter saw
 * it (its rules are pure predicates over the connection and request headers). The deciding policy comes
 * from the response details when RBAC denied, so the trace names the same rule Envoy's details do.
 */
function policyTraces(ex: HttpExchange): PolicyTrace[] {
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
