// Gateway API HTTPRoute match precedence as data: a MatchRank per match, a total order over ranks, and a
// stable sort, so the route table can try matches most-specific first and stop at the first hit.
import type { HTTPRouteMatch } from '../config/model/http-route.js';

export interface MatchRank {
  readonly pathType: 'Exact' | 'PathPrefix' | 'RegularExpression';
  /** Characters in the path value (PathPrefix: without its trailing `/`, so `/` counts 0). */
  readonly pathLength: number;
  readonly hasMethod: boolean;
  /** Distinct header names (case-insensitive, first entry wins). */
  readonly headerCount: number;
  /** Distinct query parameter names (exact, first entry wins). */
  readonly queryCount: number;
  /** metadata.creationTimestamp in ms since epoch, or Infinity when unknown (sorts as newest). */
  readonly routeCreated: number;
  /** Source order; only breaks ties between resources with the same key. */
  readonly routeSeq: number;
  /** `namespace/name` of the HTTPRoute. */
  readonly routeKey: string;
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

export function rankOf(
  m: HTTPRouteMatch,
  route: { created: number; seq: number; key: string },
  ruleIndex: number,
  matchIndex: number,
): MatchRank {
  const { type, value } = m.path;
  const pathLength = type === 'PathPrefix' && value.endsWith('/') ? value.length - 1 : value.length;
  return {
    pathType: type,
    pathLength,
    hasMethod: m.method !== undefined,
    headerCount: new Set(m.headers.map((h) => h.name.toLowerCase())).size,
    queryCount: new Set(m.queryParams.map((q) => q.name)).size,
    // A NaN (unparsable timestamp) would make the comparator inconsistent; treat it as unknown.
    routeCreated: Number.isNaN(route.created) ? Infinity : route.created,
    routeSeq: route.seq,
    routeKey: route.key,
    ruleIndex,
    matchIndex,
  };
}

// "Note: The precedence of RegularExpression path matches are implementation-specific." Following
// Istio, a regex ranks below every Exact and PathPrefix match; among regexes the longer value wins.
const PATH_TYPE_ORDER = { Exact: 0, PathPrefix: 1, RegularExpression: 2 } as const;

/**
 * Negative when `a` takes precedence over `b`. The spec (HTTPRouteRule.matches): "Proxy or Load
 * Balancer routing configuration generated from HTTPRoutes MUST prioritize matches based on the
 * following criteria, continuing on ties. Across all rules specified on applicable Routes, precedence
 * must be given to the match having:
 *   * "Exact" path match.
 *   * "Prefix" path match with largest number of characters.
 *   * Method match.
 *   * Largest number of header matches.
 *   * Largest number of query param matches.
 * If ties still exist across multiple Routes, matching precedence MUST be determined in order of the
 * following criteria, continuing on ties:
 *   * The oldest Route based on creation timestamp.
 *   * The Route appearing first in alphabetical order by "{namespace}/{name}".
 * If ties still exist within an HTTPRoute, matching precedence MUST be granted to the FIRST matching
 * rule (in list order) with a match meeting the above criteria."
 */
export function compareMatchRank(a: MatchRank, b: MatchRank): number {
  if (a.pathType !== b.pathType) return PATH_TYPE_ORDER[a.pathType] - PATH_TYPE_ORDER[b.pathType];
  if (a.pathLength !== b.pathLength) return b.pathLength - a.pathLength;
  if (a.hasMethod !== b.hasMethod) return a.hasMethod ? -1 : 1;
  if (a.headerCount !== b.headerCount) return b.headerCount - a.headerCount;
  if (a.queryCount !== b.queryCount) return b.queryCount - a.queryCount;
  // Compared, not subtracted: Infinity - Infinity is NaN.
  if (a.routeCreated !== b.routeCreated) return a.routeCreated < b.routeCreated ? -1 : 1;
  // "Alphabetical" as plain code-unit order: locale-independent, and Kubernetes names are ASCII.
  if (a.routeKey !== b.routeKey) return a.routeKey < b.routeKey ? -1 : 1;
  if (a.routeSeq !== b.routeSeq) return a.routeSeq - b.routeSeq;
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex;
  return a.matchIndex - b.matchIndex;
}

/** A new array, most specific first; stable (Array.prototype.sort is stable since ES2019). */
export function sortByPrecedence<T extends { rank: MatchRank }>(entries: T[]): T[] {
  return entries.slice().sort((x, y) => compareMatchRank(x.rank, y.rank));
}
