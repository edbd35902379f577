// The RBAC decision for one port, in Istio's order: AUDIT marks, DENY wins, then "no ALLOW policy ⇒
// allow; otherwise allow only when one matches". Dry-run policies run in shadow engines that record
// what they would have decided (Envoy's `istio_dry_run_{allow,deny}_` shadow metadata) and never enforce.
import type { AuthzInput } from './authz-input.js';
import { byId, type CompiledPolicy, type CompiledRuleRef } from './compiled-policy.js';
import { RuleSet } from './rule-index.js';

export type RbacDecision =
  | { readonly allowed: true; readonly policyId: string | undefined }
  | { readonly allowed: false; readonly policyId: string };

export interface ShadowResult {
  readonly engine: 'allowed' | 'denied';
  /** The matched policy id, when one matched. */
  readonly policyId: string | undefined;
}

export interface RbacTrace {
  /** Envoy LOG action: the id of the matched AUDIT rule (`access_log_hint`). */
  audit: string | undefined;
  dryRunDeny: ShadowResult | undefined;
  dryRunAllow: ShadowResult | undefined;
}

const ALLOWED_NO_POLICY: RbacDecision = Object.freeze({ allowed: true, policyId: undefined });

export class RbacEngine {
  readonly deny: RuleSet;
  readonly allow: RuleSet;
  /** At least one enforced ALLOW policy applies (even one whose rules can never match). */
  readonly hasAllow: boolean;
  readonly audit: RuleSet;
  readonly dryRunDeny: RuleSet | undefined;
  readonly dryRunAllow: RuleSet | undefined;

  /** `indexed: false` evaluates every rule in order (the reference the index is tested against). */
  constructor(policies: ReadonlyArray<CompiledPolicy>, mode: 'http' | 'tcp', indexed = true) {
    const pick = (action: string, dryRun: boolean): CompiledRuleRef[] =>
      policies.filter((p) => p.action === action && p.dryRun === dryRun).flatMap((p) => (mode === 'http' ? p.http : p.tcp));
    const set = (rules: CompiledRuleRef[]): RuleSet => new RuleSet(rules.sort(byId), indexed);
    this.deny = set(pick('DENY', false));
    this.allow = set(pick('ALLOW', false));
    this.hasAllow = policies.some((p) => p.action === 'ALLOW' && !p.dryRun);
    // AUDIT is never dry-run in effect: it only marks.
    this.audit = set([...pick('AUDIT', false), ...pick('AUDIT', true)]);
    this.dryRunDeny = policies.some((p) => p.action === 'DENY' && p.dryRun) ? set(pick('DENY', true)) : undefined;
    this.dryRunAllow = policies.some((p) => p.action === 'ALLOW' && p.dryRun) ? set(pick('ALLOW', true)) : undefined;
  }

  get empty(): boolean {
    return this.deny.length === 0 && !this.hasAllow && this.audit.length === 0 && this.dryRunDeny === undefined && this.dryRunAllow === undefined;
  }

  get hasShadow(): boolean {
    return this.audit.length > 0 || this.dryRunDeny !== undefined || this.dryRunAllow !== undefined;
  }

  decide(input: AuthzInput): RbacDecision {
    const denied = this.deny.firstMatch(input);
    if (denied !== undefined) return denied.denyDecision;
    if (!this.hasAllow) return ALLOWED_NO_POLICY;
    const allowed = this.allow.firstMatch(input);
    return allowed !== undefined ? allowed.allowDecision : DENIED_NO_MATCH;
  }

  /** Evaluates AUDIT and dry-run policies; only called when `hasShadow`. */
  trace(input: AuthzInput): RbacTrace {
    const trace: RbacTrace = { audit: this.audit.firstMatchId(input), dryRunDeny: undefined, dryRunAllow: undefined };
    if (this.dryRunDeny !== undefined) {
      const id = this.dryRunDeny.firstMatchId(input);
      trace.dryRunDeny = { engine: id === undefined ? 'allowed' : 'denied', policyId: id };
    }
    if (this.dryRunAllow !== undefined) {
      const id = this.dryRunAllow.firstMatchId(input);
      trace.dryRunAllow = { engine: id === undefined ? 'denied' : 'allowed', policyId: id };
    }
    return trace;
  }
}

const DENIED_NO_MATCH: RbacDecision = Object.freeze({ allowed: false, policyId: 'none' });
