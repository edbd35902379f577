// The CUSTOM stage (Envoy `envoy.filters.http.ext_authz`, first in the waypoint chain): one filter per
// provider. The provider is consulted only when a CUSTOM rule of that provider matches (Istio gates the
// filter on the shadow RBAC result); a provider that cannot be used fails closed: the matching rules deny.
import type { HeaderList } from '../../http/header-list.js';
import { LocalReplies } from '../../errors/local-reply.js';
import type { FilterOutcome, HttpFilter } from '../../filters/types.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import { AuthzInput } from './authz-input.js';
import { authzRecordFor, authzRecordOf } from './authz-record.js';
import type { CompiledRuleRef } from './compiled-policy.js';
import { type CheckAttributes, checkGrpc, encodeCheckRequest } from './ext-authz-grpc.js';
import { checkHttp } from './ext-authz-http.js';
import { pickProviderEndpoint, type ProviderResolution } from './ext-authz-provider.js';
import type { ExtAuthzResult, HeaderEdit } from './ext-authz-result.js';
import { RuleSet } from './rule-index.js';

export const EXT_AUTHZ_FILTER_NAME = 'envoy.filters.http.ext_authz';
/** Istio renames the rules of a CUSTOM policy it cannot build into DENY rules with this suffix. */
export const BAD_CUSTOM_SUFFIX = '-deny-due-to-bad-CUSTOM-action';

export type ConnectionVerdict = { readonly allowed: true } | { readonly allowed: false; readonly details: string };
const ALLOWED: ConnectionVerdict = Object.freeze({ allowed: true });

export class ExtAuthzFilter implements HttpFilter {
  readonly name = EXT_AUTHZ_FILTER_NAME;
  readonly #rules: RuleSet;
  readonly #tcpRules: RuleSet;
  readonly #dryRunRules: RuleSet;

  constructor(
    readonly provider: string,
    readonly resolution: ProviderResolution,
    /** Enforced CUSTOM rules of this provider, HTTP form, in id order. */
    readonly rules: ReadonlyArray<CompiledRuleRef>,
    /** The same rules compiled for TCP (HTTP attributes dropped, as for DENY). */
    readonly tcpRules: ReadonlyArray<CompiledRuleRef>,
    /** Dry-run CUSTOM rules: recorded when they match, the provider is not called. */
    readonly dryRunRules: ReadonlyArray<CompiledRuleRef>,
  ) {
    this.#rules = new RuleSet(rules);
    this.#tcpRules = new RuleSet(tcpRules);
    this.#dryRunRules = new RuleSet(dryRunRules);
  }

  onRequestHeaders(ex: HttpExchange): FilterOutcome | Promise<FilterOutcome> {
    const input = AuthzInput.forRequest(ex);
    if (this.dryRunRules.length > 0) {
      const shadow = this.#dryRunRules.firstMatchId(input);
      if (shadow !== undefined) authzRecordFor(ex).dryRunCustom = shadow;
    }
    const id = this.#rules.firstMatchId(input);
    if (id === undefined) return undefined;
    const r = this.resolution;
    if (!r.ok) return LocalReplies.rbacDenied(id + BAD_CUSTOM_SUFFIX);
    const p = r.provider;
    const endpoint = pickProviderEndpoint(p);
    const pending: Promise<ExtAuthzResult> = endpoint === undefined
      ? Promise.resolve({ kind: 'error', reason: 'no healthy upstream' })
      : p.kind === 'http' ? checkHttp(p, endpoint, ex) : checkGrpc(p, endpoint, encodeCheckRequest(attributesOf(ex), Date.now()));
    return pending.then((result) => this.#apply(ex, id, result));
  }

  #apply(ex: HttpExchange, policyId: string, result: ExtAuthzResult): FilterOutcome {
    const r = this.resolution;
    if (!r.ok) return LocalReplies.rbacDenied(policyId + BAD_CUSTOM_SUFFIX);
    const rec = authzRecordFor(ex);
    switch (result.kind) {
      case 'ok':
        rec.extAuthz.push({ provider: this.provider, policyId, result: 'allowed' });
        for (const name of result.removeUpstream) if (name !== 'host' && !name.startsWith(':')) ex.requestHeaders.remove(name);
        for (const e of result.upstream) applyEdit(ex.requestHeaders, e);
        rec.responseHeaders.push(...result.downstream);
        return undefined;
      case 'denied':
        rec.extAuthz.push({ provider: this.provider, policyId, result: 'denied' });
        return LocalReplies.extAuthzDenied(result.status, result.body, result.headers);
      default:
        if (r.provider.failOpen) {
          rec.extAuthz.push({ provider: this.provider, policyId, result: 'failed-open' });
          return undefined;
        }
        rec.extAuthz.push({ provider: this.provider, policyId, result: 'error' });
        return LocalReplies.extAuthzError(r.provider.statusOnError);
    }
  }

  onResponseHeaders(ex: HttpExchange, headers: HeaderList): void {
    const rec = authzRecordOf(ex);
    if (rec === undefined || rec.responseHeaders.length === 0) return;
    for (const e of rec.responseHeaders.splice(0)) applyEdit(headers, e);
  }

  /**
   * CUSTOM on a TCP connection: only gRPC providers have a network ext_authz filter (Istio ignores HTTP
   * providers on TCP chains); the check carries the peer and destination, no HTTP request.
   */
  authorizeConnection(input: AuthzInput): ConnectionVerdict | Promise<ConnectionVerdict> {
    const id = this.#tcpRules.firstMatchId(input);
    if (id === undefined) return ALLOWED;
    const r = this.resolution;
    if (!r.ok) return { allowed: false, details: `rbac_access_denied_matched_policy[${id}${BAD_CUSTOM_SUFFIX}]` };
    const p = r.provider;
    if (p.kind === 'http') return ALLOWED;
    const endpoint = pickProviderEndpoint(p);
    if (endpoint === undefined) return p.failOpen ? ALLOWED : { allowed: false, details: 'ext_authz_error' };
    const attrs: CheckAttributes = {
      source: { address: input.conn.remoteAddress, port: input.conn.remotePort, principal: input.principal },
      destination: { address: input.listener.address, port: input.listener.port },
      http: undefined,
    };
    return checkGrpc(p, endpoint, encodeCheckRequest(attrs, Date.now())).then((res): ConnectionVerdict => {
      if (res.kind === 'ok') return ALLOWED;
      if (res.kind === 'error' && p.failOpen) return ALLOWED;
      return { allowed: false, details: res.kind === 'denied' ? 'ext_authz_denied' : 'ext_authz_error' };
    });
  }
}

function applyEdit(list: HeaderList, e: HeaderEdit): void {
  switch (e.op) {
    case 'set':
      list.set(e.name, e.value);
      return;
    case 'append':
      list.add(e.name, e.value);
      return;
    case 'add-if-absent':
      if (!list.has(e.name)) list.add(e.name, e.value);
      return;
    default:
      if (list.has(e.name)) list.set(e.name, e.value);
  }
}

/** Envoy's AttributeContext for an HTTP request: every header (pseudo-headers included), lower-case, joined with ",". */
function attributesOf(ex: HttpExchange): CheckAttributes {
  const joined = new Map<string, string>();
  const host = ex.requestHeaders.get('host') ?? ex.listener.service.hostname;
  joined.set(':authority', host);
  joined.set(':method', ex.method);
  joined.set(':path', ex.path);
  joined.set(':scheme', 'http');
  const f = ex.requestHeaders.fields;
  for (let i = 0; i < f.length; i += 2) {
    const name = (f[i] as string).toLowerCase();
    if (name === 'host') continue;
    const prev = joined.get(name);
    joined.set(name, prev === undefined ? (f[i + 1] as string) : `${prev},${f[i + 1] as string}`);
  }
  const len = ex.req.headers['content-length'];
  return {
    source: { address: ex.conn.remoteAddress, port: ex.conn.remotePort, principal: ex.conn.peerPrincipal },
    destination: { address: ex.listener.address, port: ex.listener.port },
    http: {
      id: ex.requestHeaders.get('x-request-id') ?? '',
      method: ex.method,
      headers: [...joined],
      path: ex.path,
      host,
      size: typeof len === 'string' && /^[0-9]+$/.test(len) ? Number(len) : ex.req.headers['transfer-encoding'] !== undefined ? -1 : 0,
      protocol: `HTTP/${ex.req.httpVersion}`,
    },
  };
}
