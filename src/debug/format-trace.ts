// Human-readable rendering of a decision trace (`waypoint explain`), and the verdict `--expect` checks:
// whether authentication/authorization denied the request, or it went on to routing.
import type { DecisionTrace } from './decision-trace.js';

export type Verdict = 'allow' | 'deny';

/** Denied when RBAC, ext-authz (CUSTOM) or JWT authentication answered instead of the route. */
export function verdictOf(t: DecisionTrace): Verdict {
  const d = t.response.details;
  return d.startsWith('rbac_access_denied') || d.startsWith('jwt_authn_access_denied') || d.startsWith('ext_authz') || t.response.flags === 'UAEX' ? 'deny' : 'allow';
}

/** Lines without timings or ids, so the same request always renders the same (golden tests). */
export function formatTrace(t: DecisionTrace): string {
  const lines: string[] = [];
  const add = (k: string, v: string): void => void lines.push(`${k.padEnd(14)}${v}`);
  add('request', `${t.request.method} ${t.request.authority}${t.request.path}`);
  add('source', `${t.source.address}${t.source.principal === undefined ? '' : ` (${t.source.principal})`}`);
  add('listener', t.listener);
  add('service', `${t.service} port ${t.port.port}${t.port.name === '' ? '' : ` (${t.port.name}, ${t.port.protocol})`}`);
  add('jwt', t.jwt === undefined ? 'none validated' : `${t.jwt.principal} aud=[${t.jwt.audiences.join(',')}]`);
  if (t.authorization.length === 0) add('authorization', 'no policy on this port');
  for (const [i, p] of t.authorization.entries()) {
    add(i === 0 ? 'authorization' : '', `${p.action}${p.dryRun ? ' (dry-run)' : ''} ${p.policy}: ${p.outcome}${p.matchedRule === undefined ? '' : ` by ${p.matchedRule}`}`);
  }
  if (t.response.details === 'rbac_access_denied_matched_policy[none]') add('', 'denied: ALLOW policies apply and none matched');
  for (const x of t.extAuthz) add('ext-authz', `${x.provider} (${x.policyId}): ${x.result}`);
  add('route', t.route === undefined ? (verdictOf(t) === 'deny' ? 'not reached (denied before routing)' : 'none (Service default or no match)') : `${t.route.name} (HTTPRoute ${t.route.httpRoute} rule ${t.route.rule} match ${t.route.match}) ${JSON.stringify(t.route.matchSpec)}`);
  add('backend', `${t.backend.cluster ?? '-'} endpoint ${t.backend.endpoint ?? '-'}`);
  add('response', `${t.response.status} flags=${t.response.flags} details=${t.response.details}`);
  add('verdict', verdictOf(t));
  return `${lines.join('\n')}\n`;
}
