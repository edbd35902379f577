// Compiles every AuthorizationPolicy once per snapshot: attachment to this waypoint, the port filter
// stages (CUSTOM ext-authz first, RBAC after JWT authn), status conditions, diagnostics that say where
// each policy is enforced and why, and the /config_dump view.
import { z } from 'zod';
import { type AuthorizationPolicySpec, policyTargetRef } from '../../config/model/authorization-policy.js';
import type { MeshConfig } from '../../config/model/mesh-config.js';
import type { FilterStage, PortFilterInput } from '../../config/compile/port-filters.js';
import { type Diagnostic, resourceDiagnostic } from '../../config/diagnostics.js';
import type { RawResource } from '../../config/resource.js';
import { type AuthorizationPolicyStatus, condition, type PolicyEnforcement } from '../../config/status.js';
import type { Valid } from '../../config/validate/validate.js';
import type { HttpFilter } from '../../filters/types.js';
import { allowNothing, byId, type CompiledPolicy, CompiledRuleRef, compilePolicy, isDryRun } from './compiled-policy.js';
import { ExtAuthzFilter } from './ext-authz-filter.js';
import { type ClusterLookup, type ProviderResolution, resolveProviders } from './ext-authz-provider.js';
import { type AttachmentContext, bindTarget, flattenBindings, type TargetBinding, type TargetScope } from './policy-attachment.js';
import { RbacFilter } from './rbac-filter.js';
import { ALWAYS_RULE } from './rule-program.js';
import { ztunnelView } from './ztunnel-fallback.js';

export interface AuthorizationInput extends AttachmentContext {
  readonly policies: ReadonlyArray<Valid<AuthorizationPolicySpec>>;
  /** Raw AuthorizationPolicies rejected by validation: an ALLOW one stays in force as "allow nothing". */
  readonly rejected: ReadonlyArray<RawResource>;
  readonly mesh: MeshConfig;
  readonly clusters: ClusterLookup;
}

export interface AuthorizationResult {
  /** CUSTOM (ext_authz) stage: first in the port chain. */
  readonly customStage: FilterStage;
  /** AUDIT/DENY/ALLOW (RBAC) stage: after JWT authn. */
  readonly rbacStage: FilterStage;
  readonly statuses: ReadonlyArray<AuthorizationPolicyStatus>;
  /** For /config_dump: each policy with where it applies and its compiled rule ids. */
  readonly dump: ReadonlyArray<unknown>;
}

interface Placed {
  readonly policy: CompiledPolicy;
  readonly scope: TargetScope;
}

const BAD_CUSTOM_ALL = 'default-deny-all-due-to-bad-CUSTOM-action';

export function compileAuthorization(input: AuthorizationInput, diagnostics: Diagnostic[]): AuthorizationResult {
  const trustDomains = [input.mesh.trustDomain, ...input.mesh.trustDomainAliases];
  const providers = resolveProviders(input.mesh, input.clusters);
  const placed: Placed[] = [];
  const statuses: AuthorizationPolicyStatus[] = [];
  const dump: unknown[] = [];
  const sorted = [...input.policies].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const p of sorted) {
    const compiled = compilePolicy(p, trustDomains);
    const refs = p.spec.targetRefs ?? (p.spec.targetRef === undefined ? [] : [p.spec.targetRef]);
    const gen = p.raw.metadata.generation;
    if (refs.length === 0) {
      statuses.push(ztunnelStatus(p, compiled.dryRun, diagnostics));
      continue;
    }
    const bindings = refs.map((r) => bindTarget(r, p.raw.metadata.namespace, input));
    bindings.forEach((b, i) => {
      if (!b.bound) diagnostics.push(resourceDiagnostic(p.raw, 'warning', `policy-${b.reason === 'TargetNotFound' ? 'target-not-found' : b.reason === 'AncestorNotBound' ? 'target-not-bound' : 'target-invalid'}`, ['spec', p.spec.targetRefs !== undefined ? 'targetRefs' : 'targetRef', ...(p.spec.targetRefs !== undefined ? [i] : [])], `${b.message}: this targetRef attaches the policy nowhere`));
    });
    for (const b of bindings) if (b.here !== undefined) placed.push({ policy: compiled, scope: b.here });
    if (p.spec.action === 'CUSTOM') checkProvider(p, providers, diagnostics);
    const flat = flattenBindings(bindings);
    const where = enforcement(bindings);
    statuses.push({
      namespace: p.raw.metadata.namespace,
      name: p.raw.metadata.name,
      action: p.spec.action,
      enforcedBy: where.enforcedBy,
      reason: `${where.reason}${compiled.dryRun ? ' (dry-run: evaluated and recorded, never enforced)' : ''}`,
      conditions: [condition('WaypointAccepted', flat.status ? 'True' : 'False', flat.reason, flat.message, gen)],
    });
    dump.push({
      policy: p.key,
      action: p.spec.action,
      ...(compiled.provider === undefined ? {} : { provider: compiled.provider }),
      ...(compiled.dryRun ? { dryRun: true } : {}),
      enforcedBy: where.enforcedBy,
      appliesTo: bindings.filter((b) => b.here !== undefined).map((b) => (b.here?.kind === 'service' ? `Service ${b.here.service}` : 'every Service of this waypoint')),
      rules: compiled.http.map((r) => r.id),
      ...(compiled.tcpSkipped.length > 0 ? { tcpSkippedRules: compiled.tcpSkipped } : {}),
    });
  }
  for (const raw of input.rejected) placeRejected(raw, input, placed, statuses, diagnostics);

  const cache = new Map<string, { readonly custom: ReadonlyArray<HttpFilter>; readonly rbac: ReadonlyArray<HttpFilter> }>();
  const filtersFor = (port: PortFilterInput): { readonly custom: ReadonlyArray<HttpFilter>; readonly rbac: ReadonlyArray<HttpFilter> } => {
    const key = port.service.key;
    let f = cache.get(key);
    if (f === undefined) {
      const applicable = placed.filter((x) => x.scope.kind === 'waypoint' || x.scope.service === key).map((x) => x.policy);
      const unique = [...new Set(applicable)];
      f = { custom: customFilters(unique, providers), rbac: rbacFilters(unique) };
      cache.set(key, f);
    }
    return f;
  };
  return {
    customStage: (port) => filtersFor(port).custom,
    rbacStage: (port) => filtersFor(port).rbac,
    statuses,
    dump,
  };
}

function customFilters(policies: ReadonlyArray<CompiledPolicy>, providers: ReadonlyMap<string, ProviderResolution>): HttpFilter[] {
  const byProvider = new Map<string, CompiledPolicy[]>();
  for (const p of policies) {
    if (p.action !== 'CUSTOM' || p.provider === undefined) continue;
    const list = byProvider.get(p.provider) ?? [];
    list.push(p);
    byProvider.set(p.provider, list);
  }
  const out: HttpFilter[] = [];
  for (const name of [...byProvider.keys()].sort()) {
    const list = byProvider.get(name) ?? [];
    const enforced = list.filter((p) => !p.dryRun);
    const resolution = providers.get(name) ?? { ok: false, message: `extension provider ${name} not found` };
    out.push(new ExtAuthzFilter(
      name,
      resolution,
      enforced.flatMap((p) => p.http).sort(byId),
      enforced.flatMap((p) => p.tcp).sort(byId),
      list.filter((p) => p.dryRun).flatMap((p) => p.http).sort(byId),
    ));
  }
  return out;
}

function rbacFilters(policies: ReadonlyArray<CompiledPolicy>): HttpFilter[] {
  const rbac = policies.filter((p) => p.action !== 'CUSTOM');
  if (rbac.length === 0) return [];
  const f = new RbacFilter(rbac);
  return f.http.empty && f.tcp.empty ? [] : [f];
}

function enforcement(bindings: ReadonlyArray<TargetBinding>): { readonly enforcedBy: PolicyEnforcement; readonly reason: string } {
  const here = bindings.filter((b) => b.here !== undefined);
  if (here.length > 0) {
    const what = here.map((b) => (b.here?.kind === 'service' ? `Service ${b.here.service}` : `${b.ancestor} (every Service of this waypoint)`));
    return { enforcedBy: 'this-waypoint', reason: `enforced by this waypoint for ${what.join(', ')}` };
  }
  const elsewhere = bindings.filter((b) => b.bound);
  if (elsewhere.length > 0) {
    return { enforcedBy: 'other-waypoint', reason: `enforced by waypoint ${[...new Set(elsewhere.map((b) => b.waypoint ?? '?'))].join(', ')}, not this one` };
  }
  return { enforcedBy: 'nowhere', reason: `not enforced anywhere: ${bindings.map((b) => b.message).join('; ')}` };
}

function checkProvider(p: Valid<AuthorizationPolicySpec>, providers: ReadonlyMap<string, ProviderResolution>, out: Diagnostic[]): void {
  const name = p.spec.provider?.name ?? '';
  const r = providers.get(name);
  if (r === undefined) {
    const known = [...providers.keys()];
    out.push(resourceDiagnostic(p.raw, 'error', 'ext-authz-provider', ['spec', 'provider', 'name'],
      `extension provider ${name} not found, available providers are [${known.join(' ')}]: requests matching this policy's rules are DENIED (403) until the provider is defined in the mesh config (Istio fails closed)`));
  } else if (!r.ok) {
    out.push(resourceDiagnostic(p.raw, 'error', 'ext-authz-provider', ['spec', 'provider', 'name'],
      `${r.message}: requests matching this policy's rules are DENIED (403) until it is fixed (Istio fails closed)`));
  } else if (r.provider.wantsBody) {
    out.push(resourceDiagnostic(p.raw, 'warning', 'ext-authz-body', ['spec', 'provider', 'name'],
      `extension provider ${name} sets includeRequestBodyInCheck, which this waypoint does not support yet: the check is sent without the request body`));
  }
}

function ztunnelStatus(p: Valid<AuthorizationPolicySpec>, dryRun: boolean, out: Diagnostic[]): AuthorizationPolicyStatus {
  const { namespace, name, generation } = p.raw.metadata;
  const view = ztunnelView(namespace, name, p.spec, dryRun, generation);
  const why = p.spec.selector !== undefined
    ? 'has a workload selector: enforced by the destination ztunnel (L4 only), never by a waypoint; to enforce it here use targetRefs'
    : 'has no targetRefs: a namespace-wide policy for ztunnel (L4 only), ignored by waypoints; to enforce it here use targetRefs';
  const enforcedBy: PolicyEnforcement = view.condition.status === 'True' ? 'ztunnel' : 'nowhere';
  const severity = view.condition.reason === 'UnsupportedValue' ? 'warning' : 'info';
  out.push(resourceDiagnostic(p.raw, severity, 'policy-for-ztunnel', ['spec', p.spec.selector !== undefined ? 'selector' : 'rules'],
    `${why}. ${view.condition.reason === 'Accepted' ? view.summary : `${view.condition.message} Effect at ztunnel: ${view.summary}`}`));
  return {
    namespace,
    name,
    action: p.spec.action,
    enforcedBy,
    reason: `${why}; ${view.summary}`,
    conditions: [view.condition],
    ...(view.rules === undefined ? {} : { ztunnel: { summary: view.summary, rules: view.rules } }),
  };
}

const salvage = z.looseObject({
  targetRef: policyTargetRef.optional(),
  targetRefs: z.array(policyTargetRef).optional(),
  selector: z.unknown().optional(),
  action: z.unknown().optional(),
});

/**
 * A rejected policy is not applied (the API server would have refused it). Removing a rejected ALLOW
 * policy could turn "allow only X" into "allow everything", so when its targets can still be read it
 * stays in force as "allow nothing" on them (fail closed); a rejected CUSTOM policy denies everything on
 * its targets, as Istio's `default-deny-all-due-to-bad-CUSTOM-action`. A rejected DENY or AUDIT policy
 * is not enforced, and the diagnostic says so.
 */
function placeRejected(raw: RawResource, input: AuthorizationInput, placed: Placed[], statuses: AuthorizationPolicyStatus[], out: Diagnostic[]): void {
  const { namespace, name, generation } = raw.metadata;
  const parsed = salvage.safeParse(raw.object['spec'] ?? {});
  const spec = parsed.success ? parsed.data : undefined;
  const action = typeof spec?.action === 'string' ? spec.action : 'ALLOW';
  const refs = spec?.targetRefs ?? (spec?.targetRef === undefined ? [] : [spec.targetRef]);
  const bindings = spec?.selector === undefined ? refs.map((r) => bindTarget(r, namespace, input)) : [];
  const here = bindings.filter((b) => b.here !== undefined);
  let consequence: string;
  let enforcedBy: PolicyEnforcement = 'nowhere';
  if (spec === undefined || (refs.length === 0 && spec.selector === undefined)) {
    consequence = action === 'ALLOW'
      ? 'it is not applied; its targets cannot be read, so it cannot be kept in force as allow-nothing: fix it before relying on it'
      : 'it is not applied';
  } else if (spec.selector !== undefined) {
    consequence = 'it is not applied (a selector policy is for ztunnel, which would not receive it either)';
  } else if (action === 'ALLOW' || action === 'CUSTOM') {
    const policy = action === 'ALLOW' ? allowNothing(namespace, name) : denyAllBadCustom(namespace, name);
    for (const b of here) if (b.here !== undefined) placed.push({ policy, scope: b.here });
    enforcedBy = here.length > 0 ? 'this-waypoint' : 'nowhere';
    consequence = action === 'ALLOW'
      ? `it stays in force as ALLOW with no rule that can match (fail closed): requests to ${here.length > 0 ? 'its targets on this waypoint' : 'its targets'} are DENIED unless another ALLOW policy matches, until it is fixed`
      : `every request to ${here.length > 0 ? 'its targets on this waypoint' : 'its targets'} is DENIED (${BAD_CUSTOM_ALL}) until it is fixed`;
  } else {
    consequence = `it is NOT enforced: requests this ${action} policy would match are allowed until it is fixed`;
  }
  out.push(resourceDiagnostic(raw, 'error', 'policy-rejected', [], `AuthorizationPolicy rejected (see the errors above): ${consequence}`));
  statuses.push({
    namespace,
    name,
    action,
    enforcedBy,
    reason: `rejected: ${consequence}`,
    conditions: [condition('WaypointAccepted', 'False', 'Invalid', `policy is invalid and was rejected: ${consequence}`, generation)],
  });
}

function denyAllBadCustom(namespace: string, name: string): CompiledPolicy {
  const http: CompiledRuleRef[] = [];
  const policy: CompiledPolicy = { key: `${namespace}/${name}`, namespace, name, action: 'DENY', provider: undefined, dryRun: false, http, tcp: http, tcpSkipped: [] };
  http.push(new CompiledRuleRef(BAD_CUSTOM_ALL, policy, ALWAYS_RULE));
  return Object.freeze(policy);
}

export { isDryRun };
