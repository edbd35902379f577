// A compiled AuthorizationPolicy rule as plain data: clauses that must all hold, and OR-groups (a rule's
// `from` or `to` list with more than one entry) of which each needs one alternative whose clauses all
// hold. `matchRule` is the one loop every policy of a snapshot is evaluated with.
import type { AuthzInput } from './authz-input.js';
import { ALWAYS_CLAUSE, Clause, ClauseKind, NEVER_CLAUSE, testClause } from './clause.js';

export class RuleProgram {
  constructor(
    /** ANDed, cheapest first. */
    readonly clauses: ReadonlyArray<Clause>,
    /** ANDed groups of ORed alternatives (each alternative: ANDed clauses). */
    readonly groups: ReadonlyArray<ReadonlyArray<ReadonlyArray<Clause>>>,
  ) {}
}

export const ALWAYS_RULE = new RuleProgram([], []);
export const NEVER_RULE = new RuleProgram([NEVER_CLAUSE], []);

export function matchRule(r: RuleProgram, a: AuthzInput): boolean {
  if (!allHold(r.clauses, a)) return false;
  const groups = r.groups;
  for (let g = 0; g < groups.length; g++) {
    const alternatives = groups[g] as ReadonlyArray<ReadonlyArray<Clause>>;
    let any = false;
    for (let k = 0; k < alternatives.length; k++) {
      if (allHold(alternatives[k] as ReadonlyArray<Clause>, a)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

function allHold(clauses: ReadonlyArray<Clause>, a: AuthzInput): boolean {
  for (let i = 0; i < clauses.length; i++) if (!testClause(clauses[i] as Clause, a)) return false;
  return true;
}

/**
 * Relative cost of a clause, to test cheap and selective ones first. Clauses are pure, so the order
 * inside an AND never changes the result.
 */
function cost(c: Clause): number {
  switch (c.kind) {
    case ClauseKind.Never:
      return 0;
    case ClauseKind.Port:
      return 1;
    case ClauseKind.Str:
      return 2;
    case ClauseKind.Cidr:
      return 3;
    case ClauseKind.Header:
    case ClauseKind.RequestPrincipal:
      return 4;
    case ClauseKind.Path:
    case ClauseKind.Namespace:
      return c.regexes.length > 0 ? 6 : 4;
    case ClauseKind.Uri:
      return c.regexes.length > 0 ? 6 : 3;
    default:
      return 5;
  }
}

/** Builds a rule from ANDed parts: clauses, and OR-groups of alternatives (each a clause list). */
export function buildRule(clauses: ReadonlyArray<Clause>, groups: ReadonlyArray<ReadonlyArray<ReadonlyArray<Clause>>>): RuleProgram {
  const flat: Clause[] = clauses.filter((c) => c !== ALWAYS_CLAUSE && !(c.kind === ClauseKind.Always && !c.negate));
  const kept: ReadonlyArray<Clause>[][] = [];
  for (const g of groups) {
    // An empty alternative matches anything, and so does an empty list (every entry skipped for TCP).
    if (g.length === 0 || g.some((alt) => alt.length === 0)) continue;
    if (g.length === 1) flat.push(...(g[0] as ReadonlyArray<Clause>));
    else kept.push(g.map((alt) => sortByCost(alt)));
  }
  if (flat.some((c) => c.kind === ClauseKind.Never && !c.negate)) return NEVER_RULE;
  if (flat.length === 0 && kept.length === 0) return ALWAYS_RULE;
  return new RuleProgram(sortByCost(flat), kept);
}

function sortByCost(clauses: ReadonlyArray<Clause>): Clause[] {
  return clauses.map((c, i) => ({ c, i })).sort((x, y) => cost(x.c) - cost(y.c) || x.i - y.i).map((x) => x.c);
}
