// `when` condition keys (istio.io/latest/docs/reference/config/security/conditions): which keys exist,
// which are HTTP-only, how their values are validated, and the matcher each compiles to.
import type { AuthzInput } from './authz-input.js';
import { expandTrustDomains, namespacesPred, principalsPred, type Pred, requestPrincipalsPred, serviceAccountsPred, trustDomainsPred } from './identity-match.js';
import { type Address, type CidrRange, inAnyRange, parseCidr } from './ip-match.js';
import { anyMatches, compileStringMatch, type StringMatcher, wildcardProblem } from './string-match.js';

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

/** Compiles the positive matcher of one value list (values are ORed). */
export function compileConditionValues(key: ConditionKey, values: ReadonlyArray<string>, ctx: CompileContext): Pred {
  switch (key.family) {
    case 'source.ip':
      return ipPred(values, (i) => i.sourceAddress);
    case 'remote.ip':
      return ipPred(values, (i) => i.remoteAddress);
    case 'destination.ip':
      return ipPred(values, (i) => i.destinationAddress);
    case 'destination.port': {
      const ports = new Set(values.map(Number));
      return (i) => ports.has(i.destinationPort);
    }
    case 'source.namespace':
      return namespacesPred(values);
    case 'source.principal':
      return principalsPred(expandTrustDomains(values, ctx.trustDomains));
    case 'source.serviceAccount':
      return serviceAccountsPred(values, ctx.policyNamespace);
    case 'source.trustDomain':
      return trustDomainsPred(values);
    case 'request.auth.principal':
      return requestPrincipalsPred(values);
    case 'request.auth.audiences': {
      const ms = values.map((v) => compileStringMatch(v));
      return (i) => {
        const auds = i.requestAuth?.audiences;
        if (auds === undefined) return false;
        for (const a of auds) if (anyMatches(ms, a)) return true;
        return false;
      };
    }
    case 'request.auth.presenter': {
      const ms = values.map((v) => compileStringMatch(v));
      return (i) => anyMatches(ms, i.requestAuth?.presenter);
    }
    case 'request.auth.claims':
      return claimPred(key.parts, values.map((v) => compileStringMatch(v)));
    case 'request.headers': {
      const name = (key.parts[0] ?? '').toLowerCase();
      const ms = values.map((v) => compileStringMatch(v));
      // Envoy `present_match` for `*`: a header that is present matches even when its value is empty.
      return (i) => anyMatches(ms, i.header(name), true);
    }
    case 'connection.sni': {
      const ms = values.map((v) => compileStringMatch(v));
      return (i) => anyMatches(ms, i.sni);
    }
    default:
      // experimental.envoy.filters.*: raw Envoy filter metadata, which this waypoint never produces.
      return NEVER;
  }
}

export const NEVER: Pred = () => false;
export const ALWAYS: Pred = () => true;

function ipPred(values: ReadonlyArray<string>, get: (i: AuthzInput) => Address | undefined): Pred {
  const ranges = values.map((v) => parseCidr(v)).filter((r): r is CidrRange => r !== undefined);
  return (i) => inAnyRange(ranges, get(i));
}

/** Nested claims via bracket chaining; a list claim matches when any of its string elements matches. */
function claimPred(path: ReadonlyArray<string>, ms: ReadonlyArray<StringMatcher>): Pred {
  return (i) => {
    let v: unknown = i.requestAuth?.claims;
    for (const p of path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
      v = (v as Record<string, unknown>)[p];
    }
    if (typeof v === 'string') return anyMatches(ms, v);
    if (Array.isArray(v)) {
      for (const e of v) if (typeof e === 'string' && anyMatches(ms, e)) return true;
    }
    return false;
  };
}
