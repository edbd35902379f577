// An AuthorizationPolicy compiled once per snapshot: one rule program (plain data, see rule-program.ts)
// per rule for HTTP and one for TCP, with Envoy's policy ids (`ns[<ns>]-policy[<name>]-rule[<i>]`) as
// RBAC reports them.
import { type AuthorizationAction, type AuthorizationPolicySpec, DRY_RUN_ANNOTATION } from '../../config/model/authorization-policy.js';
import type { Valid } from '../../config/validate/validate.js';
import type { AuthzInput } from './authz-input.js';
import { compileRule } from './compile-rule.js';
import type { CompileContext } from './conditions.js';
import type { RbacDecision } from './rbac-engine.js';
import { matchRule, NEVER_RULE, type RuleProgram } from './rule-program.js';

export class CompiledRuleRef {
  /** The decisions naming this rule, built once: a request is decided without allocating. */
  readonly allowDecision: RbacDecision;
  readonly denyDecision: RbacDecision;

  constructor(
    /** Envoy RBAC policy id; CUSTOM rules carry the `istio-ext-authz-<provider>-` prefix. */
    readonly id: string,
    readonly policy: CompiledPolicy,
    readonly program: RuleProgram,
  ) {
    this.allowDecision = Object.freeze({ allowed: true, policyId: id });
    this.denyDecision = Object.freeze({ allowed: false, policyId: id });
  }

  /** This rule alone against a request (the decision trace; the engines use RuleSet). */
  match(input: AuthzInput): boolean {
    return matchRule(this.program, input);
  }
}

export interface CompiledPolicy {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly action: AuthorizationAction;
  readonly provider: string | undefined;
  readonly dryRun: boolean;
  /** Rules that can match an HTTP request, in id order. */
  readonly http: ReadonlyArray<CompiledRuleRef>;
  /** Rules that can match a TCP connection (HTTP-only rules of an ALLOW policy are absent). */
  readonly tcp: ReadonlyArray<CompiledRuleRef>;
  /** Rules skipped on TCP (ALLOW rules with HTTP-only attributes), by index, for status and dumps. */
  readonly tcpSkipped: ReadonlyArray<number>;
}

/** Istio's `extAuthzMatchPrefix`. */
export const EXT_AUTHZ_PREFIX = 'istio-ext-authz';

export function policyId(namespace: string, name: string, rule: number, provider?: string): string {
  const prefix = provider === undefined ? '' : `${EXT_AUTHZ_PREFIX}-${provider}-`;
  return `${prefix}ns[${namespace}]-policy[${name}]-rule[${rule}]`;
}

/** `istio.io/dry-run` parsed as Go's strconv.ParseBool; an unparsable value is not dry-run (Istio logs it). */
export function isDryRun(annotations: Readonly<Record<string, string>>): boolean {
  const v = annotations[DRY_RUN_ANNOTATION];
  return v !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v);
}

export function compilePolicy(p: Valid<AuthorizationPolicySpec>, trustDomains: ReadonlyArray<string>): CompiledPolicy {
  const { namespace, name, annotations } = p.raw.metadata;
  const action = p.spec.action;
  const provider = action === 'CUSTOM' ? p.spec.provider?.name : undefined;
  const ctx: CompileContext = { policyNamespace: namespace, trustDomains };
  const http: CompiledRuleRef[] = [];
  const tcp: CompiledRuleRef[] = [];
  const tcpSkipped: number[] = [];
  const policy: CompiledPolicy = { key: p.key, namespace, name, action, provider, dryRun: isDryRun(annotations), http, tcp, tcpSkipped };
  const rules = p.spec.rules ?? [];
  rules.forEach((rule, i) => {
    if (rule === null) return;
    const id = policyId(namespace, name, i, provider);
    const h = compileRule(rule, 'http', action, ctx);
    if (h !== undefined) http.push(new CompiledRuleRef(id, policy, h));
    const t = compileRule(rule, 'tcp', action, ctx);
    if (t !== undefined) tcp.push(new CompiledRuleRef(id, policy, t));
    else tcpSkipped.push(i);
  });
  // "Generate an explicit policy that never matches" for a policy without rules.
  if (rules.length === 0) {
    const never = new CompiledRuleRef(policyId(namespace, name, 0, provider), policy, NEVER_RULE);
    http.push(never);
    tcp.push(never);
  }
  http.sort(byId);
  tcp.sort(byId);
  return Object.freeze(policy);
}

/** A rejected ALLOW policy stays in force as "allow nothing" on its targets (see stages.ts). */
export function allowNothing(namespace: string, name: string): CompiledPolicy {
  const http: CompiledRuleRef[] = [];
  const policy: CompiledPolicy = { key: `${namespace}/${name}`, namespace, name, action: 'ALLOW', provider: undefined, dryRun: false, http, tcp: http, tcpSkipped: [] };
  http.push(new CompiledRuleRef(policyId(namespace, name, 0), policy, NEVER_RULE));
  return Object.freeze(policy);
}

/** Envoy keeps RBAC policies in a sorted map, so the first matching id in string order is reported. */
export function byId(a: { readonly id: string }, b: { readonly id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
