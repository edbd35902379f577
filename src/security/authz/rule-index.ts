// The rules of one action on one port, in Envoy's order (policy id), with an index: a rule that can only
// match requests with one of a few exact values of a cheap key (the peer's `<td>/ns/<ns>`, the first
// path segment, the destination port, the method) is filed under those values, so a request only evaluates
// the rules filed under its own values plus the rules no key applies to. The first matching rule in id
// order is the same as a full scan would find: each list is scanned in id order and only up to the
// best match found so far.
import type { AuthzInput } from './authz-input.js';
import { type Clause, ClauseKind, StrAttr } from './clause.js';
import type { CompiledRuleRef } from './compiled-policy.js';
import { matchRule, type RuleProgram } from './rule-program.js';
import { MatchKind } from './string-match.js';
import { pathHeadOf, principalHeadOf } from './authz-input.js';

/** Index keys, in the order a rule is filed by (the first that applies to it). */
export const IndexKey = { PrincipalHead: 0, PathHead: 1, Port: 2, Method: 3 } as const;
export type IndexKey = (typeof IndexKey)[keyof typeof IndexKey];
const KEYS: ReadonlyArray<IndexKey> = [IndexKey.PrincipalHead, IndexKey.PathHead, IndexKey.Port, IndexKey.Method];
export const INDEX_KEY_NAMES: Readonly<Record<IndexKey, string>> = { 0: 'principal', 1: 'path', 2: 'port', 3: 'method' };

type Key = string | number;

interface KeyIndex {
  readonly key: IndexKey;
  readonly buckets: ReadonlyMap<Key, Int32Array>;
}

export interface RuleSetStats {
  readonly rules: number;
  /** Rules every request evaluates (no index key applies to them). */
  readonly scanned: number;
  /** Rules filed per index key. */
  readonly indexed: Readonly<Record<string, number>>;
}

export class RuleSet {
  /** In id order. */
  readonly rules: ReadonlyArray<CompiledRuleRef>;
  readonly #programs: ReadonlyArray<RuleProgram>;
  readonly #scan: Int32Array;
  readonly #indexes: ReadonlyArray<KeyIndex>;

  /** `rules` must be in id order (see byId). `indexed: false` scans every rule (tests compare both). */
  constructor(rules: ReadonlyArray<CompiledRuleRef>, indexed = true) {
    this.rules = rules;
    this.#programs = rules.map((r) => r.program);
    const scan: number[] = [];
    const filed = new Map<IndexKey, Map<Key, number[]>>();
    rules.forEach((r, ordinal) => {
      const placement = indexed ? placementOf(r.program) : undefined;
      if (placement === undefined) {
        scan.push(ordinal);
        return;
      }
      let byValue = filed.get(placement.key);
      if (byValue === undefined) filed.set(placement.key, (byValue = new Map()));
      for (const v of placement.values) {
        const list = byValue.get(v) ?? [];
        if (list.at(-1) !== ordinal) list.push(ordinal);
        byValue.set(v, list);
      }
    });
    this.#scan = Int32Array.from(scan);
    this.#indexes = KEYS.filter((k) => filed.has(k)).map((key) => ({
      key,
      buckets: new Map([...(filed.get(key) ?? new Map<Key, number[]>())].map(([v, list]) => [v, Int32Array.from(list)] as const)),
    }));
  }

  get length(): number {
    return this.rules.length;
  }

  /** The first rule (in id order) that matches, or undefined. */
  firstMatch(a: AuthzInput): CompiledRuleRef | undefined {
    const end = this.rules.length;
    let best = end;
    const indexes = this.#indexes;
    for (let i = 0; i < indexes.length; i++) {
      const ix = indexes[i] as KeyIndex;
      const v = requestKey(ix.key, a);
      if (v === undefined) continue;
      const list = ix.buckets.get(v);
      if (list !== undefined) best = this.#scanList(list, best, a);
    }
    best = this.#scanList(this.#scan, best, a);
    return best < end ? this.rules[best] : undefined;
  }

  /** The id of the first matching rule, or undefined. */
  firstMatchId(a: AuthzInput): string | undefined {
    return this.firstMatch(a)?.id;
  }

  #scanList(list: Int32Array, best: number, a: AuthzInput): number {
    const programs = this.#programs;
    for (let i = 0; i < list.length; i++) {
      const o = list[i] as number;
      if (o >= best) return best;
      if (matchRule(programs[o] as RuleProgram, a)) return o;
    }
    return best;
  }

  stats(): RuleSetStats {
    const indexed: Record<string, number> = {};
    for (const ix of this.#indexes) {
      const ordinals = new Set<number>();
      for (const list of ix.buckets.values()) for (const o of list) ordinals.add(o);
      indexed[INDEX_KEY_NAMES[ix.key]] = ordinals.size;
    }
    return { rules: this.rules.length, scanned: this.#scan.length, indexed };
  }
}

function requestKey(key: IndexKey, a: AuthzInput): Key | undefined {
  switch (key) {
    case IndexKey.PrincipalHead:
      return a.principalHead;
    case IndexKey.PathHead:
      return a.pathHead;
    case IndexKey.Port:
      return a.destinationPort;
    default:
      return a.method;
  }
}

/** Where a rule is filed: the first index key whose values bound every request the rule can match. */
function placementOf(r: RuleProgram): { readonly key: IndexKey; readonly values: ReadonlyArray<Key> } | undefined {
  for (const key of KEYS) {
    const values = ruleValues(r, key);
    if (values !== undefined) return { key, values };
  }
  return undefined;
}

/**
 * The values of `key` a request must have for the rule to match, or undefined when the rule does not
 * bound them: a clause ANDed at the top, or a group whose every alternative has such a clause.
 */
function ruleValues(r: RuleProgram, key: IndexKey): Key[] | undefined {
  for (const c of r.clauses) {
    const v = clauseValues(c, key);
    if (v !== undefined) return v;
  }
  for (const g of r.groups) {
    const union: Key[] = [];
    let all = true;
    for (const alt of g) {
      const v = alt.map((c) => clauseValues(c, key)).find((x) => x !== undefined);
      if (v === undefined) {
        all = false;
        break;
      }
      union.push(...v);
    }
    if (all) return [...new Set(union)];
  }
  return undefined;
}

/** The values a positive clause requires of `key`, when it pins them to a finite set. */
function clauseValues(c: Clause, key: IndexKey): Key[] | undefined {
  if (c.negate) return undefined;
  switch (key) {
    case IndexKey.PrincipalHead: {
      if (c.kind !== ClauseKind.Str || c.attr !== StrAttr.PrincipalBody) return undefined;
      // An exact principal has one head; a prefix pins it only when the prefix spans the first three segments.
      const ok = c.matchers.every((m) => m.kind === MatchKind.Exact || (m.kind === MatchKind.Prefix && m.value.split('/').length > 3));
      return ok ? [...new Set(c.matchers.map((m) => principalHeadOf(m.value) as string))] : undefined;
    }
    case IndexKey.PathHead: {
      // An exact path has one first segment; a prefix or a URI template pins it when it spans it whole.
      if (c.kind !== ClauseKind.Path) return undefined;
      const heads: string[] = [];
      for (const m of c.matchers) {
        if (m.kind === MatchKind.Exact) heads.push(pathHeadOf(m.value));
        else if (m.kind === MatchKind.Prefix && m.value.indexOf('/', 1) > 0) heads.push(pathHeadOf(m.value));
        else return undefined;
      }
      for (const t of c.words) {
        const first = t.split('/')[1] ?? '';
        if (first.includes('{') || t.indexOf('/', 1) < 0) return undefined;
        heads.push(`/${first}`);
      }
      return [...new Set(heads)];
    }
    case IndexKey.Port:
      return c.kind === ClauseKind.Port ? [...c.numbers] : undefined;
    default:
      if (c.kind !== ClauseKind.Str || c.attr !== StrAttr.Method || !c.matchers.every((m) => m.kind === MatchKind.Exact)) return undefined;
      return c.matchers.map((m) => m.value);
  }
}
