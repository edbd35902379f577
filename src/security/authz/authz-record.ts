// What authorization decided about one request, beyond allow/deny: AUDIT marks, dry-run (shadow)
// results, the ext-authz outcome, and response headers an allowing authorizer asked for. Kept beside
// the exchange (not on it) so the data path pays nothing when no policy records anything.
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HeaderEdit } from './ext-authz-result.js';
import type { ShadowResult } from './rbac-engine.js';

export interface AuthzRecord {
  /** Envoy RBAC LOG action (`access_log_hint`): the id of the matched AUDIT rule. */
  audit: string | undefined;
  /** Shadow result of dry-run DENY policies (`istio_dry_run_deny_shadow_*`). */
  dryRunDeny: ShadowResult | undefined;
  /** Shadow result of dry-run ALLOW policies (`istio_dry_run_allow_shadow_*`). */
  dryRunAllow: ShadowResult | undefined;
  /** Dry-run CUSTOM rules that matched (the provider is not called for them). */
  dryRunCustom: string | undefined;
  /** Outcome of each CUSTOM provider consulted, in order. */
  extAuthz: Array<{ readonly provider: string; readonly policyId: string; readonly result: 'allowed' | 'denied' | 'error' | 'failed-open' }>;
  /** headersToDownstreamOnAllow / response_headers_to_add, applied to the response. */
  responseHeaders: HeaderEdit[];
}

const records = new WeakMap<HttpExchange, AuthzRecord>();

/** The record of a request, or undefined when no authorization filter recorded anything. */
export function authzRecordOf(ex: HttpExchange): AuthzRecord | undefined {
  return records.get(ex);
}

export function authzRecordFor(ex: HttpExchange): AuthzRecord {
  let r = records.get(ex);
  if (r === undefined) {
    r = { audit: undefined, dryRunDeny: undefined, dryRunAllow: undefined, dryRunCustom: undefined, extAuthz: [], responseHeaders: [] };
    records.set(ex, r);
  }
  return r;
}
