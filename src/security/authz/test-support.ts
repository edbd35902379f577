// Test helpers for the authorization engine: policies from YAML through the real validation, and
// requests/connections as the engine sees them (a minimal HttpExchange stand-in, no sockets).
import type { AuthorizationPolicySpec } from '../../config/model/authorization-policy.js';
import type { Diagnostic } from '../../config/diagnostics.js';
import type { ListenerConfig } from '../../config/snapshot.js';
import { parseConfigText } from '../../config/source/yaml-documents.js';
import { type Valid, validateResources } from '../../config/validate/validate.js';
import { HeaderList } from '../../http/header-list.js';
import type { ConnectionContext } from '../../proxy/connection-context.js';
import type { HttpExchange, RequestAuth } from '../../proxy/http-exchange.js';
import { AuthzInput } from './authz-input.js';

export function policiesFrom(yaml: string): { policies: Valid<AuthorizationPolicySpec>[]; diagnostics: Diagnostic[] } {
  const parsed = parseConfigText(yaml, 'test.yaml', 0);
  if (parsed.diagnostics.length > 0) throw new Error(`test YAML does not parse: ${parsed.diagnostics.map((d) => d.message).join('; ')}`);
  const r = validateResources(parsed.resources);
  return { policies: [...r.resources.authorizationPolicies], diagnostics: r.diagnostics };
}

/** `spec` is the YAML body under `spec:` (indented by 2). */
export function policyYaml(name: string, spec: string, extra = '', namespace = 'foo'): string {
  return `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: ${namespace}${extra}\nspec:\n${spec}\n`;
}

export interface RequestSpec {
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly principal?: string;
  readonly remoteAddress?: string;
  readonly vip?: string;
  readonly port?: number;
  readonly auth?: RequestAuth;
  readonly sni?: string;
  /** Used as the request's header list instead of one built from `host` and `headers`. */
  readonly headerList?: HeaderList;
}

export function listenerFor(vip: string, port: number): ListenerConfig {
  return { key: `${vip}:${port}`, address: vip, port, service: { key: 'foo/web', hostname: 'web.foo.svc.cluster.local' }, servicePort: { filters: [] } } as unknown as ListenerConfig;
}

function connFor(r: RequestSpec): ConnectionContext {
  return {
    listenerKey: `${r.vip ?? '10.0.0.10'}:${r.port ?? 80}`,
    remoteAddress: r.remoteAddress ?? '10.1.2.3',
    remotePort: 40000,
    sourceNamespace: undefined,
    peerPrincipal: r.principal,
  } as ConnectionContext;
}

export function requestInput(r: RequestSpec): AuthzInput {
  const host = r.host ?? 'web.foo.svc.cluster.local';
  const fields: string[] = ['host', host];
  for (const [k, v] of r.headers ?? []) fields.push(k, v);
  const ex = {
    conn: connFor(r),
    listener: listenerFor(r.vip ?? '10.0.0.10', r.port ?? 80),
    method: r.method ?? 'GET',
    path: r.path ?? '/',
    requestHeaders: r.headerList ?? new HeaderList(fields),
    req: { headers: { host } },
    requestAuth: r.auth,
  } as unknown as HttpExchange;
  return AuthzInput.forRequest(ex);
}

export function connectionInput(r: RequestSpec): AuthzInput {
  return AuthzInput.forConnection(connFor(r), listenerFor(r.vip ?? '10.0.0.10', r.port ?? 80), r.sni);
}
