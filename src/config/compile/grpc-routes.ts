// Compiles GRPCRoutes into the same route entries HTTPRoutes produce (a gRPC match is a path and header
// match), sorted by the GRPCRoute precedence rules, plus their status. On a Service port a GRPCRoute
// takes the port from HTTPRoutes (GEP-1294: "GRPCRoute > HTTPRoute"); those are reported Conflicted.
import { EMPTY_CHAIN, type FilterChain } from '../../filters/types.js';
import type { CompiledHttpMatch } from '../../router/match/http-match.js';
import { compileGrpcRouteMatch } from '../../router/grpc-match.js';
import { type GrpcMatchRank, grpcRankOf, sortByGrpcPrecedence } from '../../router/grpc-precedence.js';
import { buildRoutingIndex } from '../../router/route-index.js';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { GRPCRouteMatch, GRPCRouteRule, GRPCRouteSpec } from '../model/grpc-route.js';
import type { HTTPRouteMatch, HTTPRouteSpec } from '../model/http-route.js';
import type { BackendTarget, HttpRouting, RouteAction, RouteEntry } from '../snapshot.js';
import { condition, type Condition, CONTROLLER_NAME, type RouteStatus } from '../status.js';
import type { Valid } from '../validate/validate.js';
import { resolveBackendRef, weightedBackends } from './backends.js';
import type { HttpRouteContext } from './http-routes.js';
import { compileRouteFilters, type RuleProblem } from './route-filters.js';
import { type ParentTarget, resolveParent } from './route-parents.js';
import { parentRefRecord, waypointCondition } from './route-status.js';

interface GrpcRankedEntry {
  readonly rank: GrpcMatchRank;
  readonly entry: RouteEntry;
}

export interface GrpcAttachment {
  readonly target: ParentTarget;
  readonly entries: ReadonlyArray<GrpcRankedEntry>;
}

export interface GrpcRoutes {
  readonly attachments: ReadonlyArray<GrpcAttachment>;
  readonly statuses: ReadonlyArray<RouteStatus>;
}

export const NO_GRPC_ROUTES: GrpcRoutes = Object.freeze({ attachments: [], statuses: [] });

interface CompiledMatch {
  readonly spec: GRPCRouteMatch;
  readonly index: number;
  readonly match: CompiledHttpMatch;
  readonly http: HTTPRouteMatch;
}

interface CompiledRule {
  readonly matches: ReadonlyArray<CompiledMatch>;
  readonly filters: FilterChain;
  readonly action: RouteAction;
  readonly refFailure: RuleProblem | undefined;
}

/** "If no matches are specified, the implementation MUST match every gRPC request." */
const MATCH_ALL: GRPCRouteMatch = Object.freeze({ headers: [] });

export function compileGrpcRoutes(routes: ReadonlyArray<Valid<GRPCRouteSpec>>, ctx: HttpRouteContext, diagnostics: Diagnostic[]): GrpcRoutes {
  const attachments: GrpcAttachment[] = [];
  const statuses: RouteStatus[] = [];
  for (const route of routes) {
    const ns = route.raw.metadata.namespace;
    const generation = route.raw.metadata.generation;
    const rules = route.spec.rules.map((rule, i) => compileRule(route, rule, i, ctx, diagnostics));
    const validRules = rules.filter((r): r is CompiledRule => r !== undefined);
    const refFailure = validRules.find((r) => r.refFailure !== undefined)?.refFailure;
    const parents = route.spec.parentRefs.map((ref, p) => {
      const resolution = resolveParent(ref, ns, route.spec.hostnames, ctx.services, ctx.gateways);
      const conditions: Condition[] = [];
      if (!resolution.ok) {
        conditions.push(condition('Accepted', 'False', resolution.reason, resolution.message, generation));
        diagnostics.push(resourceDiagnostic(route.raw, 'error', 'parent-not-found', ['spec', 'parentRefs', p], resolution.message));
      } else if (validRules.length === 0) {
        conditions.push(condition('Accepted', 'False', 'UnsupportedValue', 'no valid rules: every rule was dropped (see diagnostics)', generation));
      } else {
        conditions.push(condition('Accepted', 'True', 'Accepted', 'Route was valid', generation));
        attachments.push({ target: resolution.target, entries: rankedEntries(route, rules, resolution.target) });
        if (resolution.target.kind === 'service') conditions.push(waypointCondition(resolution.target.service, ctx.bindings, generation));
      }
      conditions.push(refFailure === undefined
        ? condition('ResolvedRefs', 'True', 'ResolvedRefs', 'All references resolved', generation)
        : condition('ResolvedRefs', 'False', refFailure.reason, refFailure.message, generation));
      const dropped = rules.length - validRules.length;
      if (dropped > 0 && validRules.length > 0) {
        conditions.push(condition('PartiallyInvalid', 'True', 'UnsupportedValue', `Dropped Rule(s): ${dropped} of ${rules.length} rules are invalid (see diagnostics)`, generation));
      }
      return { parentRef: parentRefRecord(ref), controllerName: CONTROLLER_NAME, conditions };
    });
    statuses.push({ kind: 'GRPCRoute', namespace: ns, name: route.raw.metadata.name, parents });
  }
  return { attachments, statuses };
}

function compileRule(route: Valid<GRPCRouteSpec>, rule: GRPCRouteRule, ruleIndex: number, ctx: HttpRouteContext, diagnostics: Diagnostic[]): CompiledRule | undefined {
  const at = ['spec', 'rules', ruleIndex] as const;
  const specs = rule.matches.length === 0 ? [MATCH_ALL] : rule.matches;
  const matches: CompiledMatch[] = [];
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i] as GRPCRouteMatch;
    const compiled = compileGrpcRouteMatch(spec);
    if (!compiled.ok) {
      diagnostics.push(resourceDiagnostic(route.raw, 'error', 'invalid-match', [...at, 'matches', i, ...compiled.path], `${compiled.message}; the rule is dropped`));
      return undefined;
    }
    matches.push({ spec, index: i, match: compiled.match, http: compiled.http });
  }
  if (rule.sessionPersistence !== undefined) {
    diagnostics.push(resourceDiagnostic(route.raw, 'warning', 'not-yet-applied', [...at, 'sessionPersistence'], 'sessionPersistence is not applied by this waypoint; the rule routes without it'));
  }
  // GEP-1294: mesh routes need no ReferenceGrant for cross-namespace backends; routes with other parents do.
  const requireGrant = route.spec.parentRefs.some((p) => !(p.kind === 'Service' && (p.group === '' || p.group === 'core')));
  // The HTTPRoute filter compiler applies: GRPCRoute's filter types (header modifiers, mirror, ExtensionRef)
  // are a subset with the same semantics. A list it cannot apply fails matching calls (never skipped).
  const filterCtx = { route, backends: ctx.backends, matches: matches.map((m) => m.http), level: 'rule' as const, hasBackendRefs: rule.backendRefs.length > 0, requireGrant };
  const filters = compileRouteFilters(rule.filters, filterCtx, [...at, 'filters'], diagnostics);
  let invalid = filters.invalid;
  let refFailure: RuleProblem | undefined = filters.refFailures[0];
  const targets: BackendTarget[] = rule.backendRefs.map((ref, b) => {
    const resolved = resolveBackendRef(ref, { kind: 'GRPCRoute', namespace: route.raw.metadata.namespace, requireGrant }, ctx.backends);
    if (!resolved.ok) {
      refFailure ??= { condition: 'ResolvedRefs', reason: resolved.reason, message: resolved.message };
      diagnostics.push(resourceDiagnostic(route.raw, 'error', resolved.reason === 'BackendNotFound' ? 'backend-not-found' : 'invalid-backend', [...at, 'backendRefs', b], `${resolved.message}; calls for this backend's share fail with UNAVAILABLE`));
      return { kind: 'invalid', weight: ref.weight, reason: resolved.reason };
    }
    const own = compileRouteFilters(ref.filters, { ...filterCtx, level: 'backendRef' }, [...at, 'backendRefs', b, 'filters'], diagnostics);
    invalid ??= own.invalid;
    refFailure ??= own.refFailures[0];
    return own.chain.length === 0
      ? { kind: 'cluster', weight: ref.weight, cluster: resolved.cluster }
      : { kind: 'cluster', weight: ref.weight, cluster: resolved.cluster, filters: own.chain };
  });
  // Istio reports route errors such as an invalid filter under ResolvedRefs, with their reason.
  if (invalid !== undefined) return { matches, filters: EMPTY_CHAIN, action: { kind: 'direct', status: 500, details: 'filter_not_supported' }, refFailure: invalid };
  const backends = weightedBackends(targets);
  const action: RouteAction = backends.total === 0 ? { kind: 'direct', status: 500, details: 'direct_response' } : { kind: 'forward', backends };
  return { matches, filters: filters.chain, action, refFailure };
}

function rankedEntries(route: Valid<GRPCRouteSpec>, rules: ReadonlyArray<CompiledRule | undefined>, target: ParentTarget): GrpcRankedEntry[] {
  const out: GrpcRankedEntry[] = [];
  const ns = route.raw.metadata.namespace;
  const owner = { created: route.created, seq: route.raw.seq, key: route.key };
  rules.forEach((rule, ruleIndex) => {
    if (rule === undefined) return;
    for (const m of rule.matches) {
      out.push({
        rank: grpcRankOf(m.spec, owner, ruleIndex, m.index),
        entry: Object.freeze({
          name: route.spec.rules[ruleIndex]?.name ?? `${ns}.${route.raw.metadata.name}.${ruleIndex}`,
          route: route.key,
          ruleIndex,
          matchIndex: m.index,
          match: m.match,
          matchSpec: m.http,
          hostnames: target.kind === 'gateway' ? target.hostnames : null,
          filters: rule.filters,
          action: rule.action,
          grpc: m.spec,
        }),
      });
    }
  });
  return out;
}

/**
 * The routing of a Service port when GRPCRoutes attach to it (directly, or through the waypoint Gateway
 * when the port has no Service-attached routes of either kind); undefined leaves it to HTTPRoutes.
 */
export function grpcRoutingFor(grpc: GrpcRoutes, service: string, port: number, httpAttachments: ReadonlyArray<{ readonly target: ParentTarget }>): HttpRouting | undefined {
  const producer: GrpcRankedEntry[] = [];
  const consumers = new Map<string, GrpcRankedEntry[]>();
  const viaGateway: GrpcRankedEntry[] = [];
  for (const a of grpc.attachments) {
    const t = a.target;
    if (t.kind === 'gateway') {
      viaGateway.push(...a.entries);
      continue;
    }
    if (t.service !== service || (t.port !== undefined && t.port !== port)) continue;
    if (t.consumerNamespace === undefined) producer.push(...a.entries);
    else consumers.set(t.consumerNamespace, [...(consumers.get(t.consumerNamespace) ?? []), ...a.entries]);
  }
  if (producer.length === 0 && consumers.size === 0) {
    // Routes attached to the waypoint Gateway apply to Services without routes of their own.
    if (viaGateway.length === 0 || httpAttachments.some((a) => appliesTo(a.target, service, port))) return undefined;
    producer.push(...viaGateway);
  }
  const table = (entries: GrpcRankedEntry[]): ReadonlyArray<RouteEntry> => Object.freeze(sortByGrpcPrecedence(entries).map((e) => e.entry));
  const frozen = new Map<string, ReadonlyArray<RouteEntry>>();
  for (const [ns, list] of [...consumers].sort(([a], [b]) => (a < b ? -1 : 1))) frozen.set(ns, table(list));
  const producers = table(producer);
  return Object.freeze({ kind: 'routes', producer: producers, consumers: frozen, index: buildRoutingIndex(producers, frozen) });
}

function appliesTo(t: ParentTarget, service: string, port: number): boolean {
  return t.kind === 'service' && t.service === service && (t.port === undefined || t.port === port);
}

/**
 * GEP-1294: "If multiple Route kinds attach to the same Service port, only one kind applies, with
 * GRPCRoute > HTTPRoute"; the HTTPRoute parents that lose every port they name are `Accepted=False`,
 * reason `Conflicted`. `grpc` holds only the attachments this waypoint serves.
 */
export function conflictedHttpRouteStatuses(
  statuses: ReadonlyArray<RouteStatus>,
  httpRoutes: ReadonlyArray<Valid<HTTPRouteSpec>>,
  grpc: GrpcRoutes,
  ctx: HttpRouteContext,
  diagnostics: Diagnostic[],
): RouteStatus[] {
  if (grpc.attachments.length === 0) return [...statuses];
  const byKey = new Map(httpRoutes.map((r) => [`${r.raw.metadata.namespace}/${r.raw.metadata.name}`, r]));
  return statuses.map((status) => {
    const route = status.kind === 'HTTPRoute' ? byKey.get(`${status.namespace}/${status.name}`) : undefined;
    if (route === undefined) return status;
    const parents = status.parents.map((parent, p) => {
      const ref = route.spec.parentRefs[p];
      if (ref === undefined || !parent.conditions.some((c) => c.type === 'Accepted' && c.status === 'True')) return parent;
      const resolved = resolveParent(ref, route.raw.metadata.namespace, route.spec.hostnames, ctx.services, ctx.gateways);
      if (!resolved.ok) return parent;
      const winner = shadowingGrpcRoute(resolved.target, grpc, ctx);
      if (winner === undefined) return parent;
      const message = `GRPCRoute ${winner} takes this parent: only one route kind applies to a Service port, GRPCRoute before HTTPRoute (GEP-1294)`;
      diagnostics.push(resourceDiagnostic(route.raw, 'warning', 'route-conflicted', ['spec', 'parentRefs', p], message));
      const generation = route.raw.metadata.generation;
      return {
        ...parent,
        conditions: parent.conditions.map((c) => (c.type === 'Accepted' ? condition('Accepted', 'False', 'Conflicted', message, generation) : c)),
      };
    });
    return { ...status, parents };
  });
}

/** The GRPCRoute that covers every port `target` names, if any. */
function shadowingGrpcRoute(target: ParentTarget, grpc: GrpcRoutes, ctx: HttpRouteContext): string | undefined {
  if (target.kind === 'gateway') {
    return grpc.attachments.find((a) => a.target.kind === 'gateway' && a.target.gateway === target.gateway)?.entries[0]?.entry.route;
  }
  const svc = ctx.services.get(target.service);
  const ports = target.port !== undefined ? [target.port] : (svc?.spec.ports.map((p) => p.port) ?? []);
  let winner: string | undefined;
  for (const port of ports) {
    const a = grpc.attachments.find((g) => appliesTo(g.target, target.service, port) && g.entries.length > 0);
    if (a === undefined) return undefined;
    winner ??= a.entries[0]?.entry.route;
  }
  return winner;
}


