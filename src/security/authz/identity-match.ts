// Identity matchers, compiled as Istio's generator does: principals against the peer's SPIFFE URI with
// `spiffe://` prepended, namespaces and serviceAccounts as patterns inside that URI, trustDomains as a
// URI prefix, requestPrincipals against the JWT's `iss/sub`. Trust-domain aliases expand principals.
// Each compiles to one Clause (see clause.ts).
import { Clause, ClauseKind, StrAttr } from './clause.js';
import { compileStringMatch, MatchKind, type StringMatcher } from './string-match.js';

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
export function principalsClause(values: ReadonlyArray<string>): Clause {
  return new Clause(ClauseKind.Str, false, { attr: StrAttr.PrincipalBody, matchers: values.map((v) => compileStringMatch(v)) });
}

/**
 * `namespaces: [X]` matches the peer URI with the regex `.*` + `/ns/X/` + `.*` (a `*` in X becomes `.*`).
 * For a standard SPIFFE identity an exact X is the parsed namespace, compared without a substring search.
 */
export function namespacesClause(values: ReadonlyArray<string>): Clause {
  const exact = values.filter((v) => !v.includes('*'));
  return new Clause(ClauseKind.Namespace, false, {
    words: exact,
    words2: exact.map((v) => `/ns/${v}/`),
    regexes: values.filter((v) => v.includes('*')).map((v) => new RegExp(`^.*/ns/${v.split('*').map(escapeRegex).join('.*')}/.*$`)),
  });
}

/** `serviceAccounts: [ns/sa]` (bare `sa` = the policy's namespace) ≙ regex `spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?`. */
export function serviceAccountsClause(values: ReadonlyArray<string>, policyNamespace: string): Clause {
  const regexes = values.map((v) => {
    const slash = v.indexOf('/');
    const ns = slash < 0 ? policyNamespace : v.slice(0, slash);
    const sa = slash < 0 ? v : v.slice(slash + 1);
    return new RegExp(`^spiffe://.+/ns/${escapeRegex(ns)}/(.+/|)sa/${escapeRegex(sa)}(/.+)?$`);
  });
  return new Clause(ClauseKind.Uri, false, { regexes });
}

/** `trustDomains: [td]` ≙ URI prefix `spiffe://td/`; `*` = any SPIFFE identity. */
export function trustDomainsClause(values: ReadonlyArray<string>): Clause {
  const prefixes: string[] = [];
  const regexes: RegExp[] = [];
  for (const v of values) {
    const m = compileStringMatch(v);
    switch (m.kind) {
      case MatchKind.Present:
        prefixes.push(SPIFFE);
        break;
      case MatchKind.Prefix:
        prefixes.push(SPIFFE + m.value);
        break;
      case MatchKind.Suffix:
        regexes.push(new RegExp(`^spiffe://[^/]*${escapeRegex(m.value)}/`));
        break;
      default:
        prefixes.push(`${SPIFFE}${m.value}/`);
    }
  }
  return new Clause(ClauseKind.Uri, false, { words: prefixes, regexes });
}

/**
 * requestPrincipals against the JWT principal `iss/sub`, split at the last `/` (issuers are often URLs):
 * `*` = any authenticated request, `iss/*` = that issuer with any subject, `*\/sub` = any issuer with that
 * subject; other forms match the whole `iss/sub` string.
 */
export function requestPrincipalsClause(values: ReadonlyArray<string>): Clause {
  let any = false;
  const issuers: string[] = [];
  const subjects: string[] = [];
  const matchers: StringMatcher[] = [];
  for (const v of values) {
    if (v === '*') any = true;
    else if (v.endsWith('/*') && !v.slice(0, -2).includes('*')) issuers.push(v.slice(0, -2));
    else if (v.startsWith('*/') && !v.slice(2).includes('*') && !v.slice(2).includes('/')) subjects.push(v.slice(2));
    else matchers.push(compileStringMatch(v));
  }
  return new Clause(ClauseKind.RequestPrincipal, false, { flag: any, words: issuers, words2: subjects, matchers });
}
