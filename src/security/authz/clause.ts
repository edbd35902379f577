// One test of an AuthorizationPolicy rule as plain data (a field of a source or operation, or one `when`
// value list), and the single switch that evaluates it against a request's attributes. Rules are arrays
// of clauses, so evaluating thousands of policies is one loop over data: no closure per field.
import type { AuthzInput } from './authz-input.js';
import { type CidrRange, inAnyRange } from './ip-match.js';
import { anyMatches, type StringMatcher } from './string-match.js';

export const ClauseKind = {
  Always: 0,
  Never: 1,
  /** A string attribute (see `StrAttr`) against `matchers`; `flag` = Envoy `present_match` (`*` accepts ""). */
  Str: 2,
  /** The destination port in `numbers`. */
  Port: 3,
  /** An address attribute (see `AddrAttr`) inside one of `ranges`. */
  Cidr: 4,
  /** `namespaces`: `words` exact names (the parsed namespace), `words2` the same as `/ns/<X>/` (any other URI), `regexes` for `*` forms. */
  Namespace: 5,
  /** The peer URI starts with one of `words` or matches one of `regexes` (trustDomains, serviceAccounts). */
  Uri: 6,
  /** JWT `iss/sub`: `flag` any, `words` issuers (`iss/*`), `words2` subjects (`*\/sub`), `matchers` the rest. */
  RequestPrincipal: 7,
  /** The path without query: `matchers` (exact/prefix/suffix/`*`) or `regexes` (URI templates, their text in `words`). */
  Path: 8,
  /** Any JWT audience against `matchers`. */
  Audiences: 9,
  /** The JWT claim at the path `words` (a string, or any string of a list) against `matchers`. */
  Claim: 10,
  /** The request header in slot `attr` (name `words[0]`), repeated values joined with ",", against `matchers`. */
  Header: 11,
} as const;
export type ClauseKind = (typeof ClauseKind)[keyof typeof ClauseKind];

/** String attributes a `Str` clause reads; each is extracted once per request by AuthzInput. */
export const StrAttr = { PrincipalBody: 0, HostLower: 1, Method: 2, Sni: 3, Presenter: 4 } as const;
export type StrAttr = (typeof StrAttr)[keyof typeof StrAttr];

/** Address attributes a `Cidr` clause reads: `source.ip` (direct peer), `remote.ip` (XFF), `destination.ip`. */
export const AddrAttr = { Source: 0, Remote: 1, Destination: 2 } as const;
export type AddrAttr = (typeof AddrAttr)[keyof typeof AddrAttr];

const NONE: ReadonlyArray<never> = Object.freeze([]);

export interface ClauseData {
  readonly attr?: number;
  readonly flag?: boolean;
  readonly matchers?: ReadonlyArray<StringMatcher>;
  readonly words?: ReadonlyArray<string>;
  readonly words2?: ReadonlyArray<string>;
  readonly regexes?: ReadonlyArray<RegExp>;
  readonly ranges?: ReadonlyArray<CidrRange>;
  readonly numbers?: ReadonlyArray<number>;
}

/** Every clause has the same shape (all fields present), so the evaluator's property reads stay monomorphic. */
export class Clause {
  readonly attr: number;
  readonly flag: boolean;
  readonly matchers: ReadonlyArray<StringMatcher>;
  readonly words: ReadonlyArray<string>;
  readonly words2: ReadonlyArray<string>;
  readonly regexes: ReadonlyArray<RegExp>;
  readonly ranges: ReadonlyArray<CidrRange>;
  readonly numbers: ReadonlyArray<number>;

  constructor(readonly kind: ClauseKind, readonly negate: boolean, d: ClauseData = {}) {
    this.attr = d.attr ?? 0;
    this.flag = d.flag ?? false;
    this.matchers = d.matchers ?? NONE;
    this.words = d.words ?? NONE;
    this.words2 = d.words2 ?? NONE;
    this.regexes = d.regexes ?? NONE;
    this.ranges = d.ranges ?? NONE;
    this.numbers = d.numbers ?? NONE;
  }

  /** The same test, negated (`notX` fields, `notValues`). */
  negated(): Clause {
    return new Clause(this.kind, !this.negate, this);
  }
}

export const ALWAYS_CLAUSE = new Clause(ClauseKind.Always, false);
export const NEVER_CLAUSE = new Clause(ClauseKind.Never, false);

export function testClause(c: Clause, a: AuthzInput): boolean {
  return positive(c, a) !== c.negate;
}

function positive(c: Clause, a: AuthzInput): boolean {
  switch (c.kind) {
    case ClauseKind.Always:
      return true;
    case ClauseKind.Never:
      return false;
    case ClauseKind.Str:
      return anyMatches(c.matchers, a.str(c.attr as StrAttr), c.flag);
    case ClauseKind.Port:
      return c.numbers.includes(a.destinationPort);
    case ClauseKind.Cidr:
      return inAnyRange(c.ranges, a.address(c.attr as AddrAttr));
    case ClauseKind.Namespace:
      return namespaceMatches(c, a);
    case ClauseKind.Uri:
      return uriMatches(c, a.principal);
    case ClauseKind.RequestPrincipal:
      return requestPrincipalMatches(c, a);
    case ClauseKind.Path: {
      const p = a.path;
      if (p === undefined) return false;
      return anyMatches(c.matchers, p) || anyRegex(c.regexes, p);
    }
    case ClauseKind.Audiences: {
      const auds = a.requestAuth?.audiences;
      if (auds === undefined) return false;
      for (let i = 0; i < auds.length; i++) if (anyMatches(c.matchers, auds[i])) return true;
      return false;
    }
    case ClauseKind.Claim:
      return claimMatches(c, a);
    case ClauseKind.Header:
      return anyMatches(c.matchers, a.headerAt(c.attr, c.words[0] ?? ''), c.flag);
    default:
      return false;
  }
}

function anyRegex(res: ReadonlyArray<RegExp>, s: string): boolean {
  for (let i = 0; i < res.length; i++) if ((res[i] as RegExp).test(s)) return true;
  return false;
}

function startsWithAny(words: ReadonlyArray<string>, s: string): boolean {
  for (let i = 0; i < words.length; i++) if (s.startsWith(words[i] as string)) return true;
  return false;
}

function uriMatches(c: Clause, uri: string | undefined): boolean {
  if (uri === undefined) return false;
  return startsWithAny(c.words, uri) || anyRegex(c.regexes, uri);
}

/**
 * `namespaces: [X]` ≙ regex `.*\/ns/X/.*` on the peer URI. For a standard SPIFFE identity the parsed
 * namespace is compared; for any other URI the `/ns/X/` substring is searched, as the regex would.
 */
function namespaceMatches(c: Clause, a: AuthzInput): boolean {
  const uri = a.principal;
  if (uri === undefined) return false;
  const ns = a.principalNamespace;
  if (ns !== undefined) {
    if (c.words.includes(ns)) return true;
  } else {
    const needles = c.words2;
    for (let i = 0; i < needles.length; i++) if (uri.includes(needles[i] as string)) return true;
  }
  return anyRegex(c.regexes, uri);
}

function requestPrincipalMatches(c: Clause, a: AuthzInput): boolean {
  const p = a.requestPrincipal;
  if (p === undefined || p === '') return false;
  if (c.flag) return true;
  const slash = p.lastIndexOf('/');
  if (slash >= 0 && slash < p.length - 1 && c.words.length > 0 && c.words.includes(a.requestIssuer ?? '')) return true;
  if (slash > 0 && c.words2.length > 0 && c.words2.includes(a.requestSubject ?? '')) return true;
  return anyMatches(c.matchers, p);
}

/** Nested claims via bracket chaining; a list claim matches when any of its string elements matches. */
function claimMatches(c: Clause, a: AuthzInput): boolean {
  let v: unknown = a.requestAuth?.claims;
  const path = c.words;
  for (let i = 0; i < path.length; i++) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    v = (v as Record<string, unknown>)[path[i] as string];
  }
  if (typeof v === 'string') return anyMatches(c.matchers, v);
  if (Array.isArray(v)) {
    for (const e of v) if (typeof e === 'string' && anyMatches(c.matchers, e)) return true;
  }
  return false;
}
