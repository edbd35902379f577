// What ztunnel makes of a policy that is not attached to a waypoint (workload `selector`, or neither
// selector nor targetRefs): Istio's conversion to ztunnel's L4 policy (pilot ambient/authorization.go).
// ztunnel cannot see HTTP, so an ALLOW rule with an HTTP attribute is dropped (the policy gets stricter)
// and a DENY rule loses its HTTP attributes (it denies more); a DENY rule left with an empty clause has
// no effect. The result is shown in status and diagnostics so users see the fail-safe before it bites.
import type { AuthorizationPolicySpec, Rule } from '../../config/model/authorization-policy.js';
import { condition, type Condition } from '../../config/status.js';

const L4_WHEN = new Set(['source.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port']);
const L4_SOURCE = ['ipBlocks', 'notIpBlocks', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'principals', 'notPrincipals'] as const;
const HTTP_SOURCE = ['remoteIpBlocks', 'notRemoteIpBlocks', 'requestPrincipals', 'notRequestPrincipals', 'trustDomains', 'notTrustDomains'] as const;
const HTTP_OPERATION = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

export interface ZtunnelRule {
  readonly rule: number;
  /** `enforced` as written (L4 only), `widened` (DENY without its HTTP attributes), `dropped` (ALLOW rule with HTTP attributes), `no-effect` (DENY left with nothing to match). */
  readonly effect: 'enforced' | 'widened' | 'dropped' | 'no-effect';
  /** The rule as ztunnel enforces it: only L4 fields. */
  readonly l4: Readonly<Record<string, unknown>>;
  /** HTTP attributes found in the rule (field names or condition keys). */
  readonly omitted: ReadonlyArray<string>;
}

export interface ZtunnelView {
  readonly condition: Condition;
  /** Present when ztunnel enforces the policy; rules as ztunnel sees them. */
  readonly rules: ReadonlyArray<ZtunnelRule> | undefined;
  /** One line: what the policy does at ztunnel. */
  readonly summary: string;
}

const HTTP_RULE_FMT = (found: string, boilerplate: string): string =>
  `ztunnel does not support HTTP attributes (found: ${found}). In ambient mode you must use a waypoint proxy to enforce HTTP rules. ${boilerplate}`;
const DENY_NO_EFFECT = 'After omitting unsupported HTTP attributes, this DENY policy has no enforceable rules at ztunnel and will have no effect. Deploy a waypoint proxy and use a targetRef to enforce this policy.';
const DENY_MIXED = 'DENY policy with HTTP attributes is enforced without the HTTP rules. This will be more restrictive than requested.';
const ALLOW_RULE = 'Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested.';

export function ztunnelView(namespace: string, name: string, spec: AuthorizationPolicySpec, dryRun: boolean, generation: number | undefined): ZtunnelView {
  if (dryRun) {
    const msg = `found policy "${namespace}/${name}" using dry-run annotation, but support for ambient dry-run authorizationPolicies isn't enabled`;
    return { condition: condition('ZtunnelAccepted', 'False', 'UnsupportedValue', msg, generation), rules: undefined, summary: 'not enforced by ztunnel (dry-run is not supported there)' };
  }
  if (spec.action === 'CUSTOM' || spec.action === 'AUDIT') {
    const msg = `ztunnel does not support the ${spec.action} action`;
    return { condition: condition('ZtunnelAccepted', 'False', 'UnsupportedValue', msg, generation), rules: undefined, summary: `not enforced: ${msg}; attach it to a waypoint with targetRefs` };
  }
  const deny = spec.action === 'DENY';
  const rules = (spec.rules ?? []).map((r, i) => convertRule(r, i, deny));
  const found = [...new Set(rules.flatMap((r) => r.omitted))].sort();
  if (found.length === 0) {
    const summary = !deny && rules.length === 0
      ? 'an ALLOW policy without rules: ztunnel denies every connection to the workloads it selects (allow nothing)'
      : 'enforced by ztunnel as written (L4 attributes only)';
    return { condition: condition('ZtunnelAccepted', 'True', 'Accepted', 'attached to ztunnel', generation), rules, summary };
  }
  const effective = rules.some((r) => r.effect === 'enforced' || r.effect === 'widened');
  const boilerplate = !deny ? ALLOW_RULE : effective ? DENY_MIXED : DENY_NO_EFFECT;
  const summary = !deny
    ? rules.some((r) => r.effect === 'enforced')
      ? `ztunnel enforces only rules ${rules.filter((r) => r.effect === 'enforced').map((r) => r.rule).join(', ')}; rules with HTTP attributes never match`
      : 'ztunnel enforces it as ALLOW with no rule that can match: every connection to the selected workloads is DENIED'
    : effective
      ? `ztunnel denies on the L4 parts only (rules ${rules.filter((r) => r.effect === 'widened' || r.effect === 'enforced').map((r) => r.rule).join(', ')}): more traffic is denied than the HTTP rules say`
      : 'no effect at ztunnel: no rule has an L4 attribute left to match';
  return { condition: condition('ZtunnelAccepted', 'True', 'UnsupportedValue', HTTP_RULE_FMT(found.join(', '), boilerplate), generation), rules, summary };
}

function convertRule(rule: Rule | null, index: number, deny: boolean): ZtunnelRule {
  const omitted = new Set<string>();
  const l4: Record<string, unknown> = {};
  // Clauses are ANDed; a clause whose matches are all empty never matches at ztunnel.
  const clauses: boolean[] = [];
  if (rule === null) return { rule: index, effect: 'dropped', l4, omitted: [] };
  if (rule.to !== undefined && rule.to.length > 0) {
    const to = rule.to.map((t) => {
      const op = t?.operation ?? {};
      for (const f of HTTP_OPERATION) if ((op[f]?.length ?? 0) > 0) omitted.add(f);
      return pick(op, ['ports', 'notPorts']);
    });
    l4['to'] = to;
    clauses.push(to.some((m) => Object.keys(m).length > 0));
  }
  if (rule.from !== undefined && rule.from.length > 0) {
    const from = rule.from.map((f) => {
      const src = f?.source ?? {};
      for (const h of HTTP_SOURCE) if ((src[h]?.length ?? 0) > 0) omitted.add(h);
      return pick(src, L4_SOURCE);
    });
    l4['from'] = from;
    clauses.push(from.some((m) => Object.keys(m).length > 0));
  }
  const when: unknown[] = [];
  for (const c of rule.when ?? []) {
    if (!L4_WHEN.has(c.key)) {
      omitted.add(c.key);
      clauses.push(false);
      continue;
    }
    when.push(c);
    clauses.push(true);
  }
  if (when.length > 0) l4['when'] = when;
  const hasHttp = omitted.size > 0;
  let effect: ZtunnelRule['effect'];
  if (!hasHttp) effect = 'enforced';
  else if (!deny) effect = 'dropped';
  else effect = clauses.every((c) => c) ? 'widened' : 'no-effect';
  return { rule: index, effect, l4, omitted: [...omitted].sort() };
}

function pick<T extends object>(obj: T, keys: ReadonlyArray<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (obj as Record<string, unknown>)[k];
    if (Array.isArray(v) && v.length > 0) out[k] = v;
  }
  return out;
}
