// Compiles the decision-header annotations of the waypoint Gateway into a DecisionHeaderPolicy:
//   waypoint.dev/decision-header: "true"
//   waypoint.dev/decision-header-trusted: "10.0.0.0/8, spiffe://cluster.local/ns/ops/sa/debugger, spiffe://cluster.local/ns/ops/*"
import { type Diagnostic, resourceDiagnostic } from '../config/diagnostics.js';
import type { RawResource } from '../config/resource.js';
import { type CidrRange, parseCidr } from '../security/authz/ip-match.js';
import { DecisionHeaderPolicy } from './decision-header.js';

export const DECISION_HEADER_ANNOTATION = 'waypoint.dev/decision-header';
export const DECISION_HEADER_TRUSTED_ANNOTATION = 'waypoint.dev/decision-header-trusted';

/**
 * The policy, or undefined when the header is off. Anything wrong turns it off (fail closed: a typo must
 * never show decisions to everyone) with a warning naming the annotation; the Gateway itself still applies.
 */
export function compileDecisionHeader(gateway: RawResource, diagnostics: Diagnostic[]): DecisionHeaderPolicy | undefined {
  const annotations = gateway.metadata.annotations;
  const enabled = annotations[DECISION_HEADER_ANNOTATION];
  const trustedText = annotations[DECISION_HEADER_TRUSTED_ANNOTATION];
  const warn = (key: string, message: string): undefined => {
    diagnostics.push(resourceDiagnostic(gateway, 'warning', 'decision-header', ['metadata', 'annotations', key], message));
    return undefined;
  };
  if (enabled === undefined) {
    if (trustedText !== undefined) warn(DECISION_HEADER_TRUSTED_ANNOTATION, `has no effect without ${DECISION_HEADER_ANNOTATION}: "true"`);
    return undefined;
  }
  if (enabled === 'false') return undefined;
  if (enabled !== 'true') return warn(DECISION_HEADER_ANNOTATION, `must be "true" or "false", got ${JSON.stringify(enabled)}; the x-waypoint-decision header is off`);
  const entries = (trustedText ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (entries.length === 0) {
    return warn(DECISION_HEADER_TRUSTED_ANNOTATION, 'lists no trusted source (CIDRs or SPIFFE IDs, comma-separated); the x-waypoint-decision header is off');
  }
  const cidrs: CidrRange[] = [];
  const principals: string[] = [];
  for (const e of entries) {
    if (e.startsWith('spiffe://')) {
      // A `*` is only a trailing prefix wildcard; anywhere else it would be read as a literal.
      if (e.length <= 'spiffe://'.length || e.slice(0, -1).includes('*')) return warn(DECISION_HEADER_TRUSTED_ANNOTATION, `${JSON.stringify(e)} is not a SPIFFE ID (a "*" may only end it); the x-waypoint-decision header is off`);
      principals.push(e);
      continue;
    }
    const cidr = parseCidr(e);
    if (cidr === undefined) return warn(DECISION_HEADER_TRUSTED_ANNOTATION, `${JSON.stringify(e)} is neither a CIDR nor a spiffe:// ID; the x-waypoint-decision header is off`);
    cidrs.push(cidr);
  }
  return new DecisionHeaderPolicy(cidrs, principals);
}
