// Compiles HTTPRoutes: rules to route entries with compiled matches and weighted backends, attached
// to their parents, plus the Gateway API status of every parentRef.
import { EMPTY_CHAIN } from '../../filters/types.js';
import { type CompiledHttpMatch, compileHttpRouteMatch } from '../../router/match/http-match.js';
import { type MatchRank, rankOf } from '../../router/precedence.js';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { ServiceSpec } from '../model/core.js';
import type { GatewaySpec } from '../model/gateway.js';
import type { HTTPRouteRule, HTTPRouteSpec } from '../model/http-route.js';
import type { BackendTarget, RouteAction, RouteEntry } from '../snapshot.js';
import { condition, type Condition, CONTROLLER_NAME, type RouteStatus } from '../status.js';
import type { Valid } from '../validate/validate.js';
import { type BackendIndex, type RefFailure, resolveBackendRef, weightedBackends } from './backends.js';
import { type ParentTarget, resolveParent } from './route-parents.js';

/** A route entry before it is placed in a table, with its precedence rank. */
export interface RankedEntry {
  readonly rank: MatchRank;
  readonly entry: RouteEntry;
}

export interface Attachment {
  readonly target: ParentTarget;
  readonly entries: ReadonlyArray<RankedEntry>;
}

export interface HttpRouteCompileResult {
  readonly attachments: ReadonlyArray<Attachment>;
  readonly statuses: ReadonlyArray<RouteStatus>;
}

export interface HttpRouteContext {
  readonly services: ReadonlyMap<string, Valid<ServiceSpec>>;
  readonly gateways: ReadonlyMap<string, Valid<GatewaySpec>>;
  readonly backends: BackendIndex;
  /** Services bound to some waypoint, `namespace/name` → waypoint key. */
  readonly bindings: ReadonlyMap<string, string | undefined>;
}

interface CompiledRule {
  readonly matches: ReadonlyArray<{ readonly match: CompiledHttpMatch; readonly index: number }>;
  readonly action: RouteAction;
  readonly refFailure: RefFailure | undefined;
}

export function compileHttpRoutes(
  routes: ReadonlyArray<Valid<HTTPRouteSpec>>,
  ctx: HttpRouteContext,
  diagnostics: Diagnostic[],
): HttpRouteCompileResult {
  const attachments: Attachment[] = [];
  const statuses: RouteStatus[] = [];
  for (const route of routes) {
    const ns = route.raw.metadata.namespace;
    const generation = route.raw.metadata.generation;
    const rules = route.spec.rules.map((rule, i) => compileRule(route, rule, i, ctx, diagnostics));
    const validRules = rules.filter((r): r is CompiledRule => r !== undefined);
    const dropped = rules.length - validRules.length;
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
        attachments.push({ target: resolution.target, entries: rankedEntries(route, validRules, resolution.target) });
        if (resolution.target.kind === 'service') {
          conditions.push(waypointCondition(resolution.target.service, ctx.bindings, generation));
          if (route.spec.hostnames.length > 0 && p === 0) {
            diagnostics.push(resourceDiagnostic(route.raw, 'info', 'hostnames-ignored', ['spec', 'hostnames'],
              'hostnames are ignored for Service parentRefs (mesh routes apply to the Service host); match the Host header instead'));
          }
        }
      }
      conditions.push(refFailure === undefined
        ? condition('ResolvedRefs', 'True', 'ResolvedRefs', 'All references resolved', generation)
        : condition('ResolvedRefs', 'False', refFailure.reason, refFailure.message, generation));
      if (dropped > 0 && validRules.length > 0) {
        conditions.push(condition('PartiallyInvalid', 'True', 'UnsupportedValue', `Dropped Rule(s): ${dropped} of ${rules.length} rules are invalid (see diagnostics)`, generation));
      }
      return { parentRef: parentRefRecord(ref), controllerName: CONTROLLER_NAME, conditions };
    });
    statuses.push({ kind: 'HTTPRoute', namespace: ns, name: route.raw.metadata.name, parents });
  }
  return { attachments, statuses };
}

function compileRule(
  route: Valid<HTTPRouteSpec>,
  rule: HTTPRouteRule,
  ruleIndex: number,
  ctx: HttpRouteContext,
  diagnostics: Diagnostic[],
): CompiledRule | undefined {
  const at = ['spec', 'rules', ruleIndex] as const;
  const matches: { match: CompiledHttpMatch; index: number }[] = [];
  let valid = true;
  rule.matches.forEach((m, i) => {
    const compiled = compileHttpRouteMatch(m);
    if (compiled.ok) matches.push({ match: compiled.match, index: i });
    else {
      valid = false;
      diagnostics.push(resourceDiagnostic(route.raw, 'error', 'invalid-match', [...at, 'matches', i, ...compiled.path], `${compiled.message}; the rule is dropped`));
    }
  });
  if (!valid) return undefined;
  for (const field of ['timeouts', 'retry', 'sessionPersistence'] as const) {
    if (rule[field] !== undefined) {
      diagnostics.push(resourceDiagnostic(route.raw, 'warning', 'not-yet-applied', [...at, field], `${field} is not yet applied by this waypoint; the rule routes without it`));
    }
  }
  if (rule.filters.length > 0 || rule.backendRefs.some((b) => b.filters.length > 0)) {
    // Gateway API: a filter that cannot be applied "MUST NOT be skipped"; requests that would hit it get an error.
    diagnostics.push(resourceDiagnostic(route.raw, 'error', 'filter-not-supported', [...at, 'filters'],
      'HTTPRoute filters are not supported by this waypoint yet; requests matching this rule get a 500 instead of skipping the filter'));
    return { matches, action: { kind: 'direct', status: 500, details: 'filter_not_supported' }, refFailure: undefined };
  }
  let refFailure: RefFailure | undefined;
  const targets: BackendTarget[] = rule.backendRefs.map((ref, b) => {
    const requireGrant = route.spec.parentRefs.some((p) => !(p.kind === 'Service' && (p.group === '' || p.group === 'core')));
    const resolved = resolveBackendRef(ref, { kind: 'HTTPRoute', namespace: route.raw.metadata.namespace, requireGrant }, ctx.backends);
    if (resolved.ok) return { kind: 'cluster', weight: ref.weight, cluster: resolved.cluster };
    refFailure ??= resolved;
    diagnostics.push(resourceDiagnostic(route.raw, 'error', resolved.reason === 'BackendNotFound' ? 'backend-not-found' : 'invalid-backend', [...at, 'backendRefs', b], `${resolved.message}; requests for this backend's share get 500`));
    return { kind: 'invalid', weight: ref.weight, reason: resolved.reason };
  });
  const backends = weightedBackends(targets);
  // Istio: when the rule's total weight is 0 every request gets a direct 500.
  const action: RouteAction = backends.total === 0
    ? { kind: 'direct', status: 500, details: 'direct_response' }
    : { kind: 'forward', backends };
  return { matches, action, refFailure };
}

function rankedEntries(route: Valid<HTTPRouteSpec>, rules: ReadonlyArray<CompiledRule | undefined>, target: ParentTarget): RankedEntry[] {
  const out: RankedEntry[] = [];
  const ns = route.raw.metadata.namespace;
  const owner = { created: route.created, seq: route.raw.seq, key: route.key };
  route.spec.rules.forEach((spec, ruleIndex) => {
    const rule = rules[ruleIndex];
    if (rule === undefined) return;
    for (const { match, index } of rule.matches) {
      const matchSpec = spec.matches[index];
      if (matchSpec === undefined) continue;
      out.push({
        rank: rankOf(matchSpec, owner, ruleIndex, index),
        entry: Object.freeze({
          name: spec.name ?? `${ns}.${route.raw.metadata.name}.${ruleIndex}`,
          route: route.key,
          ruleIndex,
          matchIndex: index,
          match,
          matchSpec,
          hostnames: target.kind === 'gateway' ? target.hostnames : null,
          filters: EMPTY_CHAIN,
          action: rule.action,
        }),
      });
    }
  });
  return out;
}

function waypointCondition(service: string, bindings: ReadonlyMap<string, string | undefined>, generation: number | undefined): Condition {
  const waypoint = bindings.get(service);
  if (waypoint === undefined) {
    return condition('ResolvedWaypoints', 'False', 'MissingUseWaypointLabel',
      'istio.io/use-waypoint label missing from parent and parent namespace; in ambient mode, route will not be respected', generation);
  }
  return condition('ResolvedWaypoints', 'True', 'ResolvedWaypoints', `All waypoints resolved (parent bound to ${waypoint})`, generation);
}

function parentRefRecord(ref: Record<string, unknown>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(ref)) if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  return out;
}
