// `when` condition keys (istio.io/latest/docs/reference/config/security/conditions): which keys exist,
// which are HTTP-only, how their values are validated, and the clause each compiles to.
import { AddrAttr, Clause, ClauseKind, NEVER_CLAUSE, StrAttr } from './clause.js';
import { headerSlot } from './header-slots.js';
import { expandTrustDomains, namespacesClause, principalsClause, requestPrincipalsClause, serviceAccountsClause, trustDomainsClause } from './identity-match.js';
import { type CidrRange, parseCidr } from './ip-match.js';
import { compileStringMatch, type StringMatcher, wildcardProblem } from './string-match.js';

export interface ConditionKey {
  /** The key's family, e.g. `request.headers` for `request.headers[x-token]`. */
  readonly family: string;
  /** Present only in HTTP requests: on TCP an ALLOW rule using it never matches, a DENY rule drops it. */
  readonly httpOnly: boolean;
  /** Enforced by ztunnel (L4) when the policy is not attached to a waypoint. */
  readonly ztunnel: boolean;
  /** The bracketed parts: `[x-token]` → ['x-token'], `[a][b]` → ['a', 'b']. */
  readonly parts: ReadonlyArray<string>;
}

export interface CompileContext {
  readonly policyNamespace: string;
  readonly trustDomains: ReadonlyArray<string>;
}

const PLAIN: Readonly<Record<string, { httpOnly: boolean; ztunnel: boolean }>> = {
  'source.ip': { httpOnly: false, ztunnel: true },
  'remote.ip': { httpOnly: false, ztunnel: false },
  'source.namespace': { httpOnly: false, ztunnel: true },
  'source.principal': { httpOnly: false, ztunnel: true },
  'source.serviceAccount': { httpOnly: false, ztunnel: false },
  'source.trustDomain': { httpOnly: false, ztunnel: false },
  'request.auth.principal': { httpOnly: true, ztunnel: false },
  'request.auth.audiences': { httpOnly: true, ztunnel: false },
  'request.auth.presenter': { httpOnly: true, ztunnel: false },
  'destination.ip': { httpOnly: false, ztunnel: true },
  'destination.port': { httpOnly: false, ztunnel: true },
  'connection.sni': { httpOnly: false, ztunnel: false },
};

const MAPPED: ReadonlyArray<{ prefix: string; httpOnly: boolean }> = [
  { prefix: 'request.headers', httpOnly: true },
  { prefix: 'request.auth.claims', httpOnly: true },
];
const EXPERIMENTAL = 'experimental.envoy.filters.';

/** Parses a key, or returns the reason it is invalid (Istio's ValidateAttribute wording). */
export function parseConditionKey(key: string): ConditionKey | string {
  const plain = PLAIN[key];
  if (plain !== undefined) return { family: key, ...plain, parts: [] };
  for (const m of MAPPED) {
    if (!key.startsWith(m.prefix)) continue;
    const parts = bracketParts(key.slice(m.prefix.length));
    if (parts === undefined || (m.prefix === 'request.headers' && parts.length !== 1)) return `bad key (${key}): should have format a[b]`;
    return { family: m.prefix, httpOnly: m.httpOnly, ztunnel: false, parts };
  }
  if (key.startsWith(EXPERIMENTAL)) {
    const open = key.indexOf('[');
    if (!key.endsWith(']') || open <= 0 || open >= key.length - 2) return `bad key (${key}): should have format a[b]`;
    return { family: EXPERIMENTAL, httpOnly: false, ztunnel: false, parts: [key] };
  }
  if (key === 'destination.namespace') return `attribute ${key} is replaced by the metadata.namespace`;
  if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
  if (key === 'destination.name' || key === 'destination.user') return `deprecated attribute ${key}: only supported in v1alpha1`;
  return `unknown attribute: ${key}`;
}

/** `[a][b]` → ['a', 'b']; undefined when not a non-empty chain of brackets. */
function bracketParts(rest: string): string[] | undefined {
  if (!rest.startsWith('[') || !rest.endsWith(']')) return undefined;
  const inner = rest.slice(1, -1).split('][');
  if (inner.some((p) => p === '' || p.includes('[') || p.includes(']'))) return undefined;
  return inner;
}

/** Validates one value list of a condition; returns problems in Istio's words. */
export function conditionValueProblems(key: ConditionKey, values: ReadonlyArray<string>): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v === '') {
      out.push('empty value not allowed');
      continue;
    }
    switch (key.family) {
      case 'source.ip':
      case 'remote.ip':
      case 'destination.ip':
        if (parseCidr(v) === undefined) out.push(v.includes('/') ? `bad CIDR range (${v})` : `bad IP address (${v})`);
        break;
      case 'destination.port':
        if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65535) out.push(`bad port (${v})`);
        break;
      case 'source.serviceAccount':
        if (v.includes('*')) out.push(`"${v}": wildcards are not supported in service accounts`);
        break;
      default: {
        const w = wildcardProblem(v);
        if (w !== undefined) out.push(w);
      }
    }
  }
  return out;
}

/** Compiles the positive test of one value list (values are ORed). */
export function compileConditionValues(key: ConditionKey, values: ReadonlyArray<string>, ctx: CompileContext): Clause {
  const matchers = (): StringMatcher[] => values.map((v) => compileStringMatch(v));
  switch (key.family) {
    case 'source.ip':
      return cidrClause(values, AddrAttr.Source);
    case 'remote.ip':
      return cidrClause(values, AddrAttr.Remote);
    case 'destination.ip':
      return cidrClause(values, AddrAttr.Destination);
    case 'destination.port':
      return new Clause(ClauseKind.Port, false, { numbers: [...new Set(values.map(Number))] });
    case 'source.namespace':
      return namespacesClause(values);
    case 'source.principal':
      return principalsClause(expandTrustDomains(values, ctx.trustDomains));
    case 'source.serviceAccount':
      return serviceAccountsClause(values, ctx.policyNamespace);
    case 'source.trustDomain':
      return trustDomainsClause(values);
    case 'request.auth.principal':
      return requestPrincipalsClause(values);
    case 'request.auth.audiences':
      return new Clause(ClauseKind.Audiences, false, { matchers: matchers() });
    case 'request.auth.presenter':
      return new Clause(ClauseKind.Str, false, { attr: StrAttr.Presenter, matchers: matchers() });
    case 'request.auth.claims':
      return new Clause(ClauseKind.Claim, false, { words: [...key.parts], matchers: matchers() });
    case 'request.headers': {
      const name = (key.parts[0] ?? '').toLowerCase();
      // Envoy `present_match` for `*`: a header that is present matches even when its value is empty.
      return new Clause(ClauseKind.Header, false, { attr: headerSlot(name), words: [name], matchers: matchers(), flag: true });
    }
    case 'connection.sni':
      return new Clause(ClauseKind.Str, false, { attr: StrAttr.Sni, matchers: matchers() });
    default:
      // experimental.envoy.filters.*: raw Envoy filter metadata, which this waypoint never produces.
      return NEVER_CLAUSE;
  }
}

export function cidrClause(values: ReadonlyArray<string>, attr: AddrAttr): Clause {
  return new Clause(ClauseKind.Cidr, false, { attr, ranges: values.map((v) => parseCidr(v)).filter((r): r is CidrRange => r !== undefined) });
}
