// GRPCRoute match precedence as data, like precedence.ts does for HTTPRoute: a rank per match and a
// total order, so a route table can be sorted once at compile time and scanned first-match.
import type { GRPCRouteMatch } from '../config/model/grpc-route.js';

export interface GrpcMatchRank {
  readonly serviceLength: number;
  readonly methodLength: number;
  /** Distinct header names (case-insensitive, first entry wins). */
  readonly headerCount: number;
  readonly routeCreated: number;
  readonly routeSeq: number;
  readonly routeKey: string;
  readonly ruleIndex: number;
  readonly matchIndex: number;
}

export function grpcRankOf(m: GRPCRouteMatch, route: { created: number; seq: number; key: string }, ruleIndex: number, matchIndex: number): GrpcMatchRank {
  return {
    serviceLength: m.method?.service?.length ?? 0,
    methodLength: m.method?.method?.length ?? 0,
    headerCount: new Set(m.headers.map((h) => h.name.toLowerCase())).size,
    routeCreated: Number.isNaN(route.created) ? Infinity : route.created,
    routeSeq: route.seq,
    routeKey: route.key,
    ruleIndex,
    matchIndex,
  };
}

/**
 * Negative when `a` takes precedence. GRPCRouteRule: "Precedence MUST be given to the rule with the
 * largest number of: Characters in a matching non-wildcard hostname. Characters in a matching hostname.
 * Characters in a matching service. Characters in a matching method. Header matches. If ties still exist
 * across multiple Routes, matching precedence MUST be determined in order of the following criteria,
 * continuing on ties: The oldest Route based on creation timestamp. The Route appearing first in
 * alphabetical order by "{namespace}/{name}". If ties still exist within the Route that has been given
 * precedence, matching precedence MUST be granted to the first matching rule meeting the above criteria."
 * Hostnames do not apply to mesh (Service) parents, so they are not ranked here.
 */
export function compareGrpcRank(a: GrpcMatchRank, b: GrpcMatchRank): number {
  if (a.serviceLength !== b.serviceLength) return b.serviceLength - a.serviceLength;
  if (a.methodLength !== b.methodLength) return b.methodLength - a.methodLength;
  if (a.headerCount !== b.headerCount) return b.headerCount - a.headerCount;
  if (a.routeCreated !== b.routeCreated) return a.routeCreated < b.routeCreated ? -1 : 1;
  if (a.routeKey !== b.routeKey) return a.routeKey < b.routeKey ? -1 : 1;
  if (a.routeSeq !== b.routeSeq) return a.routeSeq - b.routeSeq;
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex;
  return a.matchIndex - b.matchIndex;
}

export function sortByGrpcPrecedence<T extends { rank: GrpcMatchRank }>(entries: T[]): T[] {
  return entries.slice().sort((x, y) => compareGrpcRank(x.rank, y.rank));
}
