// The RBAC decision for one port, in Istio's order: AUDIT marks, DENY wins, then "no ALLOW policy ⇒
// allow; otherwise allow only when one matches". Dry-run policies run in shadow engines that record
// what they would have decided (Envoy's `istio_dry_run_{allow,deny}_` shadow metadata) and never enforce.
import type { AuthzInput } from './authz-input.js';
import { byId, type CompiledPolicy, type CompiledRuleRef } from './compiled-policy.js';

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
  readonly deny: ReadonlyArray<CompiledRuleRef>;
  readonly allow: ReadonlyArray<CompiledRuleRef>;
  /** At least one enforced ALLOW policy applies (even one whose rules can never match). */
  readonly hasAllow: boolean;
  readonly audit: ReadonlyArray<CompiledRuleRef>;
  readonly dryRunDeny: ReadonlyArray<CompiledRuleRef> | undefined;
  readonly dryRunAllow: ReadonlyArray<CompiledRuleRef> | undefined;

  constructor(policies: ReadonlyArray<CompiledPolicy>, mode: 'http' | 'tcp') {
    const pick = (action: string, dryRun: boolean): CompiledRuleRef[] =>
      policies.filter((p) => p.action === action && p.dryRun === dryRun).flatMap((p) => (mode === 'http' ? p.http : p.tcp)).sort(byId);
    this.deny = pick('DENY', false);
    this.allow = pick('ALLOW', false);
    this.hasAllow = policies.some((p) => p.action === 'ALLOW' && !p.dryRun);
    // AUDIT is never dry-run in effect: it only marks.
    this.audit = [...pick('AUDIT', false), ...pick('AUDIT', true)].sort(byId);
    this.dryRunDeny = policies.some((p) => p.action === 'DENY' && p.dryRun) ? pick('DENY', true) : undefined;
    this.dryRunAllow = policies.some((p) => p.action === 'ALLOW' && p.dryRun) ? pick('ALLOW', true) : undefined;
  }

  get empty(): boolean {
    return this.deny.length === 0 && !this.hasAllow && this.audit.length === 0 && this.dryRunDeny === undefined && this.dryRunAllow === undefined;
  }

  get hasShadow(): boolean {
    return this.audit.length > 0 || this.dryRunDeny !== undefined || this.dryRunAllow !== undefined;
  }

  decide(input: AuthzInput): RbacDecision {
    const denied = firstMatch(this.deny, input);
    if (denied !== undefined) return { allowed: false, policyId: denied };
    if (!this.hasAllow) return ALLOWED_NO_POLICY;
    const allowed = firstMatch(this.allow, input);
    return allowed !== undefined ? { allowed: true, policyId: allowed } : { allowed: false, policyId: 'none' };
  }

  /** Evaluates AUDIT and dry-run policies; only called when `hasShadow`. */
  trace(input: AuthzInput): RbacTrace {
    const trace: RbacTrace = { audit: firstMatch(this.audit, input), dryRunDeny: undefined, dryRunAllow: undefined };
    if (this.dryRunDeny !== undefined) {
      const id = firstMatch(this.dryRunDeny, input);
      trace.dryRunDeny = { engine: id === undefined ? 'allowed' : 'denied', policyId: id };
    }
    if (this.dryRunAllow !== undefined) {
      const id = firstMatch(this.dryRunAllow, input);
      trace.dryRunAllow = { engine: id === undefined ? 'denied' : 'allowed', policyId: id };
    }
    return trace;
  }
}

export function firstMatch(rules: ReadonlyArray<CompiledRuleRef>, input: AuthzInput): string | undefined {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i] as CompiledRuleRef;
    if (r.match(input)) return r.id;
  }
  return undefined;
}
