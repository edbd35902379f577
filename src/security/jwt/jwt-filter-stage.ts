// The JWT authentication stage of the port filter chain: which RequestAuthentications apply to a Service
// port at this waypoint (targetRefs naming the waypoint Gateway, the istio-waypoint GatewayClass from the
// root namespace, or the Service), compiled once per policy set. Selector and namespace-wide policies are
// for sidecars: a waypoint does not enforce them (Istio's ambient rule), and says so.
import { type Diagnostic, resourceDiagnostic } from '../../config/diagnostics.js';
import { attachPolicyTargets, type PolicyAttachment } from '../../config/compile/policy-targets.js';
import type { FilterStage, PortFilterInput } from '../../config/compile/port-filters.js';
import type { GatewaySpec } from '../../config/model/gateway.js';
import { type RequestAuthenticationSpec, targetsOf } from '../../config/model/request-authentication.js';
import type { Valid, ValidResources } from '../../config/validate/validate.js';
import type { HttpFilter } from '../../filters/types.js';
import { JWT_STATUS_TEXT } from './jwt-status.js';
import { DEFAULT_VERIFIED_TOKEN_CACHE_SIZE, JwtAuthnFilter } from './jwt-authn-filter.js';
import { compileProvider, type JwtProvider } from './jwt-provider.js';
import type { JwksResolver } from './jwks-resolver.js';

export interface JwtStageInput {
  readonly resources: ValidResources;
  readonly policies: ReadonlyArray<Valid<RequestAuthenticationSpec>>;
  /** The waypoint Gateway this process serves. */
  readonly waypoint: Valid<GatewaySpec>;
  /** MeshConfig `rootNamespace`: where GatewayClass-targeted policies live. */
  readonly rootNamespace: string;
  /** Runtime JWKS cache; without one (validate, golden tests) remote keys can never be fetched. */
  readonly resolver: JwksResolver | undefined;
  readonly now?: () => number;
}

export function jwtAuthnStage(input: JwtStageInput, diagnostics: Diagnostic[]): FilterStage {
  const waypointWide: Valid<RequestAuthenticationSpec>[] = [];
  const byService = new Map<string, Valid<RequestAuthenticationSpec>[]>();
  const ordered = [...input.policies].sort((a, b) => a.created - b.created || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const policy of ordered) {
    if (policy.spec.jwtRules.length === 0) continue;
    for (const target of attachTargets(policy, input, diagnostics)) {
      if (target.kind === 'waypoint') {
        if (!waypointWide.includes(policy)) waypointWide.push(policy);
      } else {
        const list = byService.get(target.service) ?? [];
        if (!list.includes(policy)) list.push(policy);
        byService.set(target.service, list);
      }
    }
  }
  if (waypointWide.length === 0 && byService.size === 0) return () => [];

  const deps = { resolver: input.resolver, now: input.now ?? Date.now, verifiedTokenCacheSize: DEFAULT_VERIFIED_TOKEN_CACHE_SIZE };
  const providers = new Map<string, ReadonlyArray<JwtProvider>>();
  const providersOf = (policy: Valid<RequestAuthenticationSpec>): ReadonlyArray<JwtProvider> => {
    let list = providers.get(policy.key);
    if (list === undefined) {
      list = policy.spec.jwtRules.map((rule, i) => compileProvider(rule, `${policy.key} jwtRules[${i}]`));
      list.forEach((p, i) => reportInlineKeys(policy, p, i, diagnostics));
      providers.set(policy.key, list);
    }
    return list;
  };
  // Ports with the same policy set share one filter.
  const filters = new Map<string, ReadonlyArray<HttpFilter>>();
  return (port: PortFilterInput) => {
    const own = byService.get(port.service.key) ?? [];
    const applicable = ordered.filter((p) => waypointWide.includes(p) || own.includes(p));
    if (applicable.length === 0) return [];
    const key = applicable.map((p) => p.key).join('\u0000');
    let chain = filters.get(key);
    if (chain === undefined) {
      chain = Object.freeze([new JwtAuthnFilter(Object.freeze(applicable.flatMap(providersOf)), deps)]);
      filters.set(key, chain);
    }
    return chain;
  };
}

/** Where a policy attaches at this waypoint; every target that does not attach here is explained. */
function attachTargets(policy: Valid<RequestAuthenticationSpec>, input: JwtStageInput, out: Diagnostic[]): PolicyAttachment[] {
  const res = policy.raw;
  const targets = targetsOf(policy.spec);
  const field = policy.spec.targetRef === undefined ? 'targetRefs' : 'targetRef';
  if (targets.length === 0) {
    out.push(resourceDiagnostic(res, 'warning', 'not-enforced-by-waypoint', policy.spec.selector === undefined ? ['spec'] : ['spec', 'selector'],
      'a RequestAuthentication without targetRefs (selector or namespace-wide) applies to sidecars; a waypoint enforces only policies whose targetRefs name its Gateway, the istio-waypoint GatewayClass or a Service: this policy has no effect here'));
    return [];
  }
  return attachPolicyTargets(res, field, targets, input, { subject: 'a policy', unsupportedNote: '' }, out);
}

function reportInlineKeys(policy: Valid<RequestAuthenticationSpec>, p: JwtProvider, i: number, out: Diagnostic[]): void {
  if (p.keys.kind !== 'inline' || typeof p.keys.keys !== 'string') return;
  out.push(resourceDiagnostic(policy.raw, 'warning', 'invalid-jwks', ['spec', 'jwtRules', i, 'jwks'],
    `the inline JWKS has no usable key: every token of issuer "${p.issuer}" is rejected with 401 "${JWT_STATUS_TEXT[p.keys.keys]}"`));
}
