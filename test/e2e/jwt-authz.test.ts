// End to end: the request identity a RequestAuthentication establishes, used by AuthorizationPolicy at the
// same waypoint — `requestPrincipals` to require a token, and `request.auth.*` conditions on principal,
// audiences, presenter, nested claims, list claims and space-delimited scopes. JWT authn runs before RBAC.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { ISTIO_JWKS, istioToken, type JwtMesh, requestAuthentication, startJwtMesh, yamlString } from './jwt-fixtures.js';

const vip = vipRange();
const REQUIRE = vip(1);
const CLAIMS = vip(2);
let backend: Backend;
let mesh: JwtMesh;

const policy = (name: string, service: string, action: 'ALLOW' | 'DENY', rules: string): string => `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: ${service}}]
  action: ${action}
  rules:
${rules}`;

const rule = (path: string, body: string): string => `    - to: [{operation: {paths: ["${path}"]}}]\n${body}`;

before(async () => {
  backend = await startBackend('echo');
  const ep = [`127.0.0.1:${backend.port}`];
  const bothIssuers = `    - issuer: test-issuer-1@istio.io
      jwks: ${yamlString(ISTIO_JWKS)}
    - issuer: test-issuer-2@istio.io
      jwks: ${yamlString(ISTIO_JWKS)}
`;
  mesh = await startJwtMesh({
    'mesh.yaml': [meshPreamble(), serviceYaml({ name: 'require', vip: REQUIRE, endpoints: ep }), serviceYaml({ name: 'claims', vip: CLAIMS, endpoints: ep })].join('\n'),
    'authn.yaml': requestAuthentication('require', 'require', bothIssuers) + requestAuthentication('claims', 'claims', bothIssuers),
    'authz.yaml': [
      policy('require-jwt', 'require', 'ALLOW', '    - from: [{source: {requestPrincipals: ["*"]}}]\n'),
      policy('claims', 'claims', 'ALLOW', [
        rule('/issuer1', '      from: [{source: {requestPrincipals: ["test-issuer-1@istio.io/*"]}}]\n'),
        rule('/sub-1', '      from: [{source: {requestPrincipals: ["*/sub-1"]}}]\n'),
        rule('/groups', '      when: [{key: "request.auth.claims[groups]", values: ["group-1"]}]\n'),
        rule('/nested', '      when: [{key: "request.auth.claims[nested][nested-2][key1]", values: ["valueB"]}]\n'),
        rule('/scope', '      when: [{key: "request.auth.claims[scope]", values: ["read"]}]\n'),
        rule('/aud', '      when: [{key: request.auth.audiences, values: ["buzz"]}]\n'),
        rule('/azp', '      when: [{key: request.auth.presenter, values: ["bar"]}]\n'),
        rule('/principal', '      when: [{key: request.auth.principal, values: ["test-issuer-2@istio.io/sub-2"]}]\n'),
        rule('/permission', '      from: [{source: {requestPrincipals: ["*"]}}]\n'),
      ].join('')),
      policy('deny-writers', 'claims', 'DENY', rule('/permission', '      when: [{key: "request.auth.claims[permission]", values: ["write"]}]\n')),
    ].join(''),
  });
});

after(async () => {
  await mesh?.close();
  await backend?.close();
});

interface Case {
  readonly service: string;
  readonly path: string;
  readonly token: string | undefined;
  readonly status: number;
  readonly body?: string;
}

const cases: ReadonlyArray<Case> = [
  { service: REQUIRE, path: '/', token: undefined, status: 403, body: 'RBAC: access denied' },
  { service: REQUIRE, path: '/', token: 'TokenIssuer1', status: 200 },
  { service: REQUIRE, path: '/', token: 'TokenIssuer2', status: 200 },
  // An invalid token never gets as far as RBAC.
  { service: REQUIRE, path: '/', token: 'TokenExpired', status: 401, body: 'Jwt is expired' },
  { service: REQUIRE, path: '/', token: 'TokenIssuer3', status: 401, body: 'Jwt issuer is not configured' },
  { service: CLAIMS, path: '/issuer1', token: 'TokenIssuer1', status: 200 },
  { service: CLAIMS, path: '/issuer1', token: 'TokenIssuer2', status: 403 },
  { service: CLAIMS, path: '/sub-1', token: 'TokenIssuer1', status: 200 },
  { service: CLAIMS, path: '/sub-1', token: 'TokenIssuer2', status: 403 },
  { service: CLAIMS, path: '/groups', token: 'TokenIssuer1', status: 200 },
  { service: CLAIMS, path: '/groups', token: 'TokenIssuer2', status: 403 },
  { service: CLAIMS, path: '/groups', token: undefined, status: 403 },
  { service: CLAIMS, path: '/nested', token: 'TokenIssuer1WithNestedClaims1', status: 200 },
  { service: CLAIMS, path: '/nested', token: 'TokenIssuer1WithNestedClaims2', status: 403 },
  { service: CLAIMS, path: '/scope', token: 'TokenIssuer2WithSpaceDelimitedScope', status: 200 },
  { service: CLAIMS, path: '/scope', token: 'TokenIssuer2WithCustomScopeSpaceDelimitedScope', status: 403 },
  { service: CLAIMS, path: '/aud', token: 'TokenIssuer1WithAudList', status: 200 },
  { service: CLAIMS, path: '/aud', token: 'TokenIssuer1WithAud', status: 403 },
  { service: CLAIMS, path: '/azp', token: 'TokenIssuer1WithAzp', status: 200 },
  { service: CLAIMS, path: '/azp', token: 'TokenIssuer1', status: 403 },
  { service: CLAIMS, path: '/principal', token: 'TokenIssuer2', status: 200 },
  { service: CLAIMS, path: '/principal', token: 'TokenIssuer1', status: 403 },
  // `permission` is split on spaces: "read write" contains the word "write", which the DENY matches.
  { service: CLAIMS, path: '/permission', token: 'TokenIssuer2WithSpaceDelimitedPermission', status: 403 },
  { service: CLAIMS, path: '/permission', token: 'TokenIssuer2', status: 200 },
];

for (const c of cases) {
  test(`${c.service === REQUIRE ? 'requestPrincipals ["*"]' : 'claims policy'} ${c.path} with ${c.token ?? 'no token'} → ${c.status}`, async () => {
    const headers: Record<string, string> = c.token === undefined ? {} : { authorization: `Bearer ${istioToken(c.token)}` };
    const res = await request(c.service, 80, { path: c.path, headers });
    assert.equal(res.status, c.status, res.body);
    if (c.body !== undefined) assert.equal(res.body, c.body);
    if (c.status === 403 && c.body === undefined) assert.equal(res.body, 'RBAC: access denied');
  });
}
