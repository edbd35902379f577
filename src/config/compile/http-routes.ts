// Compiles HTTPRoutes: rules to route entries with compiled matches and weighted backends, attached
// to their parents, plus the Gateway API status of every parentRef.
import { EMPTY_CHAIN, type FilterChain } from '../../filters/types.js';
import { type CompiledHttpMatch, compileHttpRouteMatch } from '../../router/match/http-match.js';
import { type MatchRank, rankOf } from '../../router/precedence.js';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { ServiceSpec } from '../model/core.js';
import type { GatewaySpec } from '../model/gateway.js';
import type { HTTPRouteRule, HTTPRouteSpec } from '../model/http-route.js';
import type { BackendTarget, RouteAction, RouteEntry } from '../snapshot.js';
import { condition, type Condition, CONTROLLER_NAME, type RouteStatus } from '../status.js';
import type { Valid } from '../validate/validate.js';
import { type BackendIndex, resolveBackendRef, weightedBackends } from './backends.js';
import { compileRouteFilters, type RuleProblem } from './route-filters.js';
import { type ParentTarget, resolveParent } from './route-parents.js';
import { compileUpstreamPolicy } from './route-policy.js';
import { parentRefRecord, waypointCondition } from './route-status.js';

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
  readonly filters: FilterChain;
  readonly action: RouteAction;
  /** First unresolved reference (backendRef or mirror backendRef): ResolvedRefs=False. */
  readonly refFailure: RuleProblem | undefined;
  /** The rule cannot be applied as written: it is programmed to answer 500 and reported. */
  readonly invalid: RuleProblem | undefined;
}

/** A rule is programmed (possibly as a 500 when invalid), or dropped when its matches do not compile. */
type RuleResult = { readonly kind: 'programmed'; readonly rule: CompiledRule } | { readonly kind: 'dropped'; readonly problem: RuleProblem };

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
    const results = route.spec.rules.map((rule, i) => compileRule(route, rule, i, ctx, diagnostics));
    const rules = results.map((r) => (r.kind === 'programmed' ? r.rule : undefined));
    const programmed = rules.filter((r): r is CompiledRule => r !== undefined);
    const broken = brokenRules(results);
    const healthy = programmed.length - programmed.filter((r) => r.invalid !== undefined).length;
    const refFailure = programmed.find((r) => r.refFailure !== undefined)?.refFailure;
    const parents = route.spec.parentRefs.map((ref, p) => {
      const resolution = resolveParent(ref, ns, route.spec.hostnames, ctx.services, ctx.gateways);
      const conditions: Condition[] = [];
      if (!resolution.ok) {
        conditions.push(condition('Accepted', 'False', resolution.reason, resolution.message, generation));
        diagnostics.push(resourceDiagnostic(route.raw, 'error', 'parent-not-found', ['spec', 'parentRefs', p], resolution.message));
      } else if (programmed.length === 0) {
        conditions.push(condition('Accepted', 'False', broken.reason, `no valid rules: ${broken.message}`, generation));
      } else {
        // "If all Route Rules in a Route are invalid, the entire Route would be considered invalid": not
        // Accepted. Its rules still answer 500 rather than letting traffic through unfiltered.
        conditions.push(healthy === 0
          ? condition('Accepted', 'False', broken.reason, `no valid rules: ${broken.message}`, generation)
          : condition('Accepted', 'True', 'Accepted', 'Route was valid', generation));
        attachments.push({ target: resolution.target, entries: rankedEntries(route, rules, resolution.target) });
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
      // "MUST only be set when it is True", for a mix of valid and invalid rules; the reason is UnsupportedValue.
      if (broken.count > 0 && healthy > 0 && resolution.ok) {
        conditions.push(condition('PartiallyInvalid', 'True', 'UnsupportedValue', `Dropped Rule(s): ${broken.count} of ${rules.length} rules are invalid: ${broken.message}`, generation));
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
): RuleResult {
  const at = ['spec', 'rules', ruleIndex] as const;
  const matches: { match: CompiledHttpMatch; index: number }[] = [];
  let matchProblem: RuleProblem | undefined;
  rule.matches.forEach((m, i) => {
    const compiled = compileHttpRouteMatch(m);
    if (compiled.ok) matches.push({ match: compiled.match, index: i });
    else {
      matchProblem ??= { condition: 'Accepted', reason: 'UnsupportedValue', message: `matches[${i}]: ${compiled.message}` };
      diagnostics.push(resourceDiagnostic(route.raw, 'error', 'invalid-match', [...at, 'matches', i, ...compiled.path], `${compiled.message}; the rule is dropped`));
    }
  });
  if (matchProblem !== undefined) return { kind: 'dropped', problem: matchProblem };
  if (rule.sessionPersistence !== undefined) {
    // Istio's waypoint ignores sessionPersistence too; say so rather than pretend.
    diagnostics.push(resourceDiagnostic(route.raw, 'warning', 'not-yet-applied', [...at, 'sessionPersistence'], 'sessionPersistence is not applied by this waypoint; the rule routes without it'));
  }
  const requireGrant = route.spec.parentRefs.some((p) => !(p.kind === 'Service' && (p.group === '' || p.group === 'core')));
  const filterCtx = { route, backends: ctx.backends, matches: rule.matches, level: 'rule' as const, hasBackendRefs: rule.backendRefs.length > 0, requireGrant };
  const filters = compileRouteFilters(rule.filters, filterCtx, [...at, 'filters'], diagnostics);
  let invalid = filters.invalid;
  let details = 'filter_not_supported';
  const policy = compileUpstreamPolicy(rule);
  if (!policy.ok) {
    diagnostics.push(resourceDiagnostic(route.raw, 'error', 'invalid-field', [...at, policy.field], `${policy.problem.message}; requests matching this rule get 500`));
    if (invalid === undefined) details = 'route_rule_invalid';
    invalid ??= policy.problem;
  }
  let refFailure: RuleProblem | undefined = filters.refFailures[0];
  const targets: BackendTarget[] = rule.backendRefs.map((ref, b) => {
    const resolved = resolveBackendRef(ref, { kind: 'HTTPRoute', namespace: route.raw.metadata.namespace, requireGrant }, ctx.backends);
    if (!resolved.ok) {
      refFailure ??= { condition: 'ResolvedRefs', reason: resolved.reason, message: resolved.message };
      diagnostics.push(resourceDiagnostic(route.raw, 'error', resolved.reason === 'BackendNotFound' ? 'backend-not-found' : 'invalid-backend', [...at, 'backendRefs', b], `${resolved.message}; requests for this backend's share get 500`));
      return { kind: 'invalid', weight: ref.weight, reason: resolved.reason };
    }
    // "Filters defined at this level should be executed if and only if the request is being forwarded to
    // the backend defined here."
    const own = compileRouteFilters(ref.filters, { ...filterCtx, level: 'backendRef' }, [...at, 'backendRefs', b, 'filters'], diagnostics);
    invalid ??= own.invalid;
    refFailure ??= own.refFailures[0];
    return own.chain.length === 0
      ? { kind: 'cluster', weight: ref.weight, cluster: resolved.cluster }
      : { kind: 'cluster', weight: ref.weight, cluster: resolved.cluster, filters: own.chain };
  });
  if (invalid !== undefined) {
    // Gateway API: a filter that cannot be applied "MUST NOT be skipped"; requests that would hit it get an error.
    return { kind: 'programmed', rule: { matches, filters: EMPTY_CHAIN, action: { kind: 'direct', status: 500, details }, refFailure, invalid } };
  }
  const backends = weightedBackends(targets);
  // Istio: when the rule's total weight is 0 every request gets a direct 500 (a redirect answers before).
  const action: RouteAction = backends.total === 0
    ? { kind: 'direct', status: 500, details: 'direct_response' }
    : !policy.ok || policy.policy === undefined ? { kind: 'forward', backends } : { kind: 'forward', backends, policy: policy.policy };
  return { kind: 'programmed', rule: { matches, filters: filters.chain, action, refFailure, invalid: undefined } };
}

/** What the invalid rules of a route have in common for its status: the first reason, indexes, a message. */
function brokenRules(results: ReadonlyArray<RuleResult>): { readonly count: number; readonly reason: string; readonly message: string } {
  const problems: Array<{ readonly reason: string; readonly text: string }> = [];
  results.forEach((r, index) => {
    if (r.kind === 'dropped') problems.push({ reason: r.problem.reason, text: `rule ${index}: ${r.problem.message}` });
    else if (r.rule.invalid !== undefined) problems.push({ reason: r.rule.invalid.reason, text: `rule ${index}: ${r.rule.invalid.message} (requests it matches get 500)` });
  });
  return { count: problems.length, reason: problems[0]?.reason ?? 'UnsupportedValue', message: problems.map((p) => p.text).join('; ') };
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
          filters: rule.filters,
          action: rule.action,
        }),
      });
    }
  });
  return out;
}


