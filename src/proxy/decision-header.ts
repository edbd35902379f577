// The opt-in `x-waypoint-decision` response header: for trusted sources only, a compact line naming the
// route rule that matched, the AuthorizationPolicy rule that decided and the response flags, built from
// what the exchange already holds at response time (never the full decision trace).
import type { HeaderList } from '../http/header-list.js';
import type { LocalReply } from '../errors/local-reply.js';
import { type CidrRange, inAnyRange, parseAddress } from '../security/authz/ip-match.js';
import type { ConnectionContext } from './connection-context.js';
import type { HttpExchange } from './http-exchange.js';

export const DECISION_HEADER = 'x-waypoint-decision';

/** Who may see the header: source CIDRs and SPIFFE IDs (exact, or a prefix when written with a trailing `*`). */
export class DecisionHeaderPolicy {
  readonly cidrs: ReadonlyArray<CidrRange>;
  readonly principals: ReadonlyArray<string>;
  readonly #exact: ReadonlySet<string>;
  readonly #prefixes: ReadonlyArray<string>;
  /** Connections are trusted or not for their whole life: decide once per connection. */
  readonly #verdicts = new WeakMap<ConnectionContext, boolean>();

  constructor(cidrs: ReadonlyArray<CidrRange>, principals: ReadonlyArray<string>) {
    this.cidrs = cidrs;
    this.principals = principals;
    this.#exact = new Set(principals.filter((p) => !p.endsWith('*')));
    this.#prefixes = principals.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  }

  trusts(conn: ConnectionContext): boolean {
    let v = this.#verdicts.get(conn);
    if (v === undefined) {
      v = this.#decide(conn);
      this.#verdicts.set(conn, v);
    }
    return v;
  }

  #decide(conn: ConnectionContext): boolean {
    const principal = conn.peerPrincipal;
    if (principal !== undefined && (this.#exact.has(principal) || this.#prefixes.some((p) => principal.startsWith(p)))) return true;
    return inAnyRange(this.cidrs, parseAddress(conn.remoteAddress));
  }
}

/** Upstream responses: the header is set for trusted sources and a copy sent by the upstream is always dropped. */
export function decisionHeaderOnResponse(ex: HttpExchange, list: HeaderList): void {
  const policy = ex.snapshot.decisionHeader;
  if (policy === undefined) return;
  list.remove(DECISION_HEADER);
  if (policy.trusts(ex.conn)) list.set(DECISION_HEADER, decisionValue(ex, ex.flag));
}

/** Local replies (403, 404 `NR`, 503, ...): the same header, with the reply's flag. */
export function withDecisionHeader(ex: HttpExchange, reply: LocalReply): LocalReply {
  const policy = ex.snapshot.decisionHeader;
  if (policy === undefined || !policy.trusts(ex.conn)) return reply;
  const headers = [...(reply.headers ?? []), DECISION_HEADER, decisionValue(ex, reply.flag)];
  return Object.freeze({ ...reply, headers: Object.freeze(headers) });
}

/** `route=ns/name#rule0; authz=allow:ns/policy#rule1; flags=-`. */
export function decisionValue(ex: HttpExchange, flag: string | undefined): string {
  return `route=${routeLabel(ex)}; authz=${authzVerdict(ex)}; flags=${flag ?? '-'}`;
}

/** `ns/name#ruleN` of the route entry, `service-default` without routes, `-` when the request was not routed. */
export function routeLabel(ex: HttpExchange): string {
  const route = ex.route;
  if (route !== undefined) return `${route.route}#rule${route.ruleIndex}`;
  return ex.routeName === 'default' ? 'service-default' : '-';
}

/**
 * What authorization decided: `allow:<policy rule>` / `deny:<policy rule>` from the RBAC filter,
 * `deny:no-allow-match` (Envoy's policy id `none`: ALLOW policies apply and none matched),
 * `deny:jwt` (RequestAuthentication refused the token), `deny:ext-authz` (CUSTOM), `-` when no policy decided.
 */
export function authzVerdict(ex: HttpExchange): string {
  const d = ex.rbacDecision;
  if (d !== undefined && d.policyId !== undefined) {
    if (!d.allowed && d.policyId === 'none') return 'deny:no-allow-match';
    return `${d.allowed ? 'allow' : 'deny'}:${policyLabel(d.policyId)}`;
  }
  if (ex.flag === 'UAEX') return 'deny:ext-authz';
  if (ex.details.startsWith('jwt_authn_access_denied')) return 'deny:jwt';
  return '-';
}

const POLICY_ID = /^ns\[(.*)\]-policy\[(.*)\]-rule\[(\d+)\]$/;
const labels = new Map<string, string>();
const MAX_LABELS = 4096;

/** Envoy's policy id `ns[foo]-policy[bar]-rule[1]` as `foo/bar#rule1` (cached: ids come from config). */
export function policyLabel(id: string): string {
  const cached = labels.get(id);
  if (cached !== undefined) return cached;
  const m = POLICY_ID.exec(id);
  const label = m === null ? id : `${m[1]}/${m[2]}#rule${m[3]}`;
  if (labels.size < MAX_LABELS) labels.set(id, label);
  return label;
}
