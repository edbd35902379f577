// Identity matchers, compiled as Istio's generator does: principals against the peer's SPIFFE URI with
// `spiffe://` prepended, namespaces and serviceAccounts as patterns inside that URI, trustDomains as a
// URI prefix, requestPrincipals against the JWT's `iss/sub`. Trust-domain aliases expand principals.
import type { AuthzInput } from './authz-input.js';
import { anyMatches, compileStringMatch, MatchKind, type StringMatcher } from './string-match.js';

export type Pred = (input: AuthzInput) => boolean;

const SPIFFE = 'spiffe://';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Istio's trust-domain migration (trustdomain.Bundle.ReplaceTrustDomainAliases): a principal whose trust
 * domain is the mesh's, one of its aliases, or `cluster.local` (a pointer to the local trust domain) is
 * expanded to the same principal in every trust domain of the bundle. Others are kept as written.
 */
export function expandTrustDomains(values: ReadonlyArray<string>, bundle: ReadonlyArray<string>): string[] {
  const out: string[] = [];
  const add = (v: string): void => {
    if (!out.includes(v)) out.push(v);
  };
  for (const v of values) {
    const slash = v.indexOf('/');
    const td = slash < 0 ? '' : v.slice(0, slash);
    if (td === '' || td.includes('*') || !(bundle.includes(td) || td === 'cluster.local')) {
      add(v);
      continue;
    }
    for (const t of bundle) add(t + v.slice(slash));
  }
  return out;
}

/**
 * Each value is matched against the peer URI with `spiffe://` prepended: exact, prefix, suffix (Envoy's
 * regex `spiffe://.*<suffix>`) or `*` (any identity), which is the same as matching the URI without it.
 */
export function principalsPred(values: ReadonlyArray<string>): Pred {
  const ms = values.map((v) => compileStringMatch(v));
  return (input) => anyMatches(ms, input.principalBody);
}

/**
 * `namespaces: [X]` matches the peer URI with the regex `.*` + `/ns/X/` + `.*` (a `*` in X becomes `.*`).
 * For a standard SPIFFE identity an exact X is the parsed namespace, compared without a substring search.
 */
export function namespacesPred(values: ReadonlyArray<string>): Pred {
  const exact = values.filter((v) => !v.includes('*'));
  const patterns = values.filter((v) => v.includes('*')).map((v) => new RegExp(`^.*/ns/${v.split('*').map(escapeRegex).join('.*')}/.*$`));
  const needles = exact.map((v) => `/ns/${v}/`);
  return (input) => {
    const uri = input.principal;
    if (uri === undefined) return false;
    const ns = input.principalNamespace;
    if (ns !== undefined) {
      for (let i = 0; i < exact.length; i++) if (exact[i] === ns) return true;
    } else {
      for (let i = 0; i < needles.length; i++) if (uri.includes(needles[i] as string)) return true;
    }
    for (let i = 0; i < patterns.length; i++) if ((patterns[i] as RegExp).test(uri)) return true;
    return false;
  };
}

/** `serviceAccounts: [ns/sa]` (bare `sa` = the policy's namespace) ≙ regex `spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?`. */
export function serviceAccountsPred(values: ReadonlyArray<string>, policyNamespace: string): Pred {
  const res = values.map((v) => {
    const slash = v.indexOf('/');
    const ns = slash < 0 ? policyNamespace : v.slice(0, slash);
    const sa = slash < 0 ? v : v.slice(slash + 1);
    return new RegExp(`^spiffe://.+/ns/${escapeRegex(ns)}/(.+/|)sa/${escapeRegex(sa)}(/.+)?$`);
  });
  return (input) => {
    const uri = input.principal;
    if (uri === undefined) return false;
    for (let i = 0; i < res.length; i++) if ((res[i] as RegExp).test(uri)) return true;
    return false;
  };
}

/** `trustDomains: [td]` ≙ URI prefix `spiffe://td/`; `*` = any SPIFFE identity. */
export function trustDomainsPred(values: ReadonlyArray<string>): Pred {
  const tests = values.map((v): ((uri: string) => boolean) => {
    const m = compileStringMatch(v);
    switch (m.kind) {
      case MatchKind.Present:
        return (uri) => uri.startsWith(SPIFFE);
      case MatchKind.Prefix:
        return (uri) => uri.startsWith(SPIFFE + m.value);
      case MatchKind.Suffix: {
        const re = new RegExp(`^spiffe://[^/]*${escapeRegex(m.value)}/`);
        return (uri) => re.test(uri);
      }
      default:
        return (uri) => uri.startsWith(`${SPIFFE}${m.value}/`);
    }
  });
  return (input) => {
    const uri = input.principal;
    if (uri === undefined) return false;
    for (let i = 0; i < tests.length; i++) if ((tests[i] as (u: string) => boolean)(uri)) return true;
    return false;
  };
}

/**
 * requestPrincipals against the JWT principal `iss/sub`, split at the last `/` (issuers are often URLs):
 * `*` = any authenticated request, `iss/*` = that issuer with any subject, `*\/sub` = any issuer with that
 * subject; other forms match the whole `iss/sub` string.
 */
export function requestPrincipalsPred(values: ReadonlyArray<string>): Pred {
  const tests = values.map((v): ((p: string) => boolean) => {
    if (v === '*') return (p) => p.length > 0;
    if (v.endsWith('/*') && !v.slice(0, -2).includes('*')) {
      const iss = v.slice(0, -2);
      return (p) => {
        const i = p.lastIndexOf('/');
        return i >= 0 && p.slice(0, i) === iss && i < p.length - 1;
      };
    }
    if (v.startsWith('*/') && !v.slice(2).includes('*') && !v.slice(2).includes('/')) {
      const sub = v.slice(2);
      return (p) => {
        const i = p.lastIndexOf('/');
        return i > 0 && p.slice(i + 1) === sub;
      };
    }
    const m: StringMatcher = compileStringMatch(v);
    return (p) => m.test(p);
  });
  return (input) => {
    const p = input.requestAuth?.principal;
    if (p === undefined || p === '') return false;
    for (let i = 0; i < tests.length; i++) if ((tests[i] as (s: string) => boolean)(p)) return true;
    return false;
  };
}
