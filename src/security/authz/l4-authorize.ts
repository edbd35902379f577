// L4 authorization for TCP/TLS connections through the waypoint (Envoy's network RBAC and ext_authz
// filters): the L4 proxy calls `authorizeL4Connection` once per connection, after the SNI is known and
// before any upstream is chosen. The port's compiled policies travel in its filter chain, so the
// decision uses the same snapshot as the connection.
import type { L4Authorizer, L4AuthzVerdict, L4ConnectionRecord } from '../../l4/connection-record.js';
import { AuthzInput } from './authz-input.js';
import { type ConnectionVerdict, ExtAuthzFilter } from './ext-authz-filter.js';
import { RbacFilter } from './rbac-filter.js';

const ALLOW: L4AuthzVerdict = Object.freeze({ kind: 'allow' });

export const authorizeL4Connection: L4Authorizer = (record: L4ConnectionRecord) => {
  const filters = record.listener.servicePort.filters;
  if (filters.length === 0) return ALLOW;
  const input = AuthzInput.forConnection(record.connection, record.listener, record.sni);
  const custom: ExtAuthzFilter[] = [];
  let rbac: RbacFilter | undefined;
  for (const f of filters) {
    if (f instanceof ExtAuthzFilter) custom.push(f);
    else if (f instanceof RbacFilter) rbac = f;
  }
  // CUSTOM first, then RBAC, as in the HTTP chain.
  const rbacVerdict = (): L4AuthzVerdict => {
    if (rbac === undefined) return ALLOW;
    const d = rbac.decideConnection(input);
    return d.allowed ? ALLOW : { kind: 'deny', details: `rbac_access_denied_matched_policy[${d.policyId}]` };
  };
  return runCustom(custom, 0, input, rbacVerdict);
};

function runCustom(custom: ReadonlyArray<ExtAuthzFilter>, from: number, input: AuthzInput, last: () => L4AuthzVerdict): L4AuthzVerdict | Promise<L4AuthzVerdict> {
  for (let i = from; i < custom.length; i++) {
    const v = (custom[i] as ExtAuthzFilter).authorizeConnection(input);
    if (v instanceof Promise) return v.then((r) => (r.allowed ? runCustom(custom, i + 1, input, last) : toVerdict(r)));
    if (!v.allowed) return toVerdict(v);
  }
  return last();
}

function toVerdict(v: ConnectionVerdict): L4AuthzVerdict {
  return v.allowed ? ALLOW : { kind: 'deny', details: v.details };
}
