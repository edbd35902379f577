// The RBAC stage of a port's chain (Envoy `envoy.filters.http.rbac`, after JWT authn): AUDIT, DENY and
// ALLOW policies for HTTP requests, and the same policies compiled for TCP, which the L4 path asks
// through `authorizeConnection` (see l4-authorize.ts).
import { LocalReplies } from '../../errors/local-reply.js';
import type { FilterOutcome, HttpFilter } from '../../filters/types.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import { AuthzInput } from './authz-input.js';
import { authzRecordFor } from './authz-record.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { type RbacDecision, RbacEngine } from './rbac-engine.js';

export const RBAC_FILTER_NAME = 'envoy.filters.http.rbac';

export class RbacFilter implements HttpFilter {
  readonly name = RBAC_FILTER_NAME;
  readonly http: RbacEngine;
  readonly tcp: RbacEngine;
  readonly policies: ReadonlyArray<CompiledPolicy>;

  constructor(policies: ReadonlyArray<CompiledPolicy>) {
    this.policies = policies;
    this.http = new RbacEngine(policies, 'http');
    this.tcp = new RbacEngine(policies, 'tcp');
  }

  onRequestHeaders(ex: HttpExchange): FilterOutcome {
    const engine = this.http;
    const input = AuthzInput.forRequest(ex);
    if (engine.hasShadow) {
      const trace = engine.trace(input);
      const rec = authzRecordFor(ex);
      rec.audit = trace.audit;
      rec.dryRunDeny = trace.dryRunDeny;
      rec.dryRunAllow = trace.dryRunAllow;
    }
    const d = engine.decide(input);
    ex.rbacDecision = d;
    return d.allowed ? undefined : LocalReplies.rbacDenied(d.policyId);
  }

  /** The decision for a TCP connection on this port (ALLOW rules with HTTP attributes never match). */
  decideConnection(input: AuthzInput): RbacDecision {
    return this.tcp.decide(input);
  }
}
