// End to end: the opt-in `x-waypoint-decision` header. Trusted sources (a SPIFFE ID, a CIDR) get the route
// rule, the AuthorizationPolicy rule that decided and the flags, on upstream responses and on local replies
// (403, 404 NR, 503 UH); untrusted sources never get it, and a copy sent by the upstream never passes.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';
import { type IdentityDoor, identityDoor } from './authz-identity.js';

const vip = vipRange();
const WEB = vip(1);
const API = vip(2);
const EMPTY = vip(3);
const DEBUG = 'spiffe://cluster.local/ns/ops/sa/debug';
const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';
/** A trusted CIDR: requests sent from this loopback address are trusted, those from 127.0.0.1 are not. */
const TRUSTED_IP = '127.0.0.2';

let mesh: TestMesh;
let backend: Backend;
const doors: Record<string, IdentityDoor> = {};

const waypointGateway = meshPreamble().replace('  namespace: default\nspec:\n  gatewayClassName', `  namespace: default\n  annotations:\n    waypoint.dev/decision-header: "true"\n    waypoint.dev/decision-header-trusted: "${DEBUG}, ${TRUSTED_IP}/32"\nspec:\n  gatewayClassName`);

const ROUTES = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: api, port: 80}]
  - backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api-only, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: api, port: 80}]
  rules:
  - matches: [{path: {type: Exact, value: /only}}]
    backendRefs: [{name: api, port: 80}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: web-allow, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: web}]
  rules:
  - from: [{source: {principals: ["cluster.local/ns/ops/sa/debug", "cluster.local/ns/foo/sa/sleep"]}}]
  - from: [{source: {ipBlocks: ["127.0.0.0/8"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: web-deny, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: web}]
  action: DENY
  rules:
  - to: [{operation: {paths: ["/private/*"]}}]
`;

before(async () => {
  // The upstream tries to forge the header: it must never reach a client as is.
  backend = await startBackend('web', (_req, res) => {
    res.writeHead(200, { 'x-waypoint-decision': 'route=forged', 'content-length': 2 });
    res.end('ok');
  });
  const ep = [`127.0.0.1:${backend.port}`];
  mesh = await startMesh({
    'mesh.yaml': [
      waypointGateway,
      serviceYaml({ name: 'web', vip: WEB, endpoints: ep }),
      serviceYaml({ name: 'api', vip: API, endpoints: ep }),
      serviceYaml({ name: 'empty', vip: EMPTY, endpoints: [] }),
      ROUTES,
    ].join('\n'),
  });
  doors['debug'] = await identityDoor(mesh.waypoint, `${WEB}:80`, DEBUG);
  doors['sleep'] = await identityDoor(mesh.waypoint, `${WEB}:80`, SLEEP);
});

after(async () => {
  for (const d of Object.values(doors)) await d.close();
  await mesh?.close();
  await backend?.close();
});

interface Reply {
  readonly status: number;
  readonly decision: string | undefined;
}

function get(host: string, port: number, path: string, localAddress?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, agent: false, ...(localAddress === undefined ? {} : { localAddress }), headers: { authorization: 'Bearer s3cret-token', cookie: 'session=s3cret' } }, (res) => {
      res.resume();
      res.on('end', () => {
        const v = res.headers['x-waypoint-decision'];
        resolve({ status: res.statusCode ?? 0, decision: Array.isArray(v) ? v.join(' | ') : v });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

type Via = { door: 'debug' | 'sleep' } | { vip: string; from: string };

const cases: ReadonlyArray<{ name: string; via: Via; path: string; status: number; decision: string | undefined }> = [
  { name: 'trusted SPIFFE ID, allowed, default rule', via: { door: 'debug' }, path: '/hello', status: 200, decision: 'route=default/web#rule1; authz=allow:default/web-allow#rule0; flags=-' },
  { name: 'trusted SPIFFE ID, allowed, first rule', via: { door: 'debug' }, path: '/v2/items', status: 200, decision: 'route=default/web#rule0; authz=allow:default/web-allow#rule0; flags=-' },
  { name: 'trusted SPIFFE ID, denied: the DENY policy is named', via: { door: 'debug' }, path: '/private/x', status: 403, decision: 'route=-; authz=deny:default/web-deny#rule0; flags=-' },
  { name: 'trusted CIDR, allowed by the second ALLOW rule', via: { vip: WEB, from: TRUSTED_IP }, path: '/hello', status: 200, decision: 'route=default/web#rule1; authz=allow:default/web-allow#rule1; flags=-' },
  { name: 'trusted CIDR, no route matched (404 NR)', via: { vip: API, from: TRUSTED_IP }, path: '/other', status: 404, decision: 'route=-; authz=-; flags=NR' },
  { name: 'trusted CIDR, route matched, no policy', via: { vip: API, from: TRUSTED_IP }, path: '/only', status: 200, decision: 'route=default/api-only#rule0; authz=-; flags=-' },
  { name: 'trusted CIDR, no healthy upstream (503 UH)', via: { vip: EMPTY, from: TRUSTED_IP }, path: '/', status: 503, decision: 'route=service-default; authz=-; flags=UH' },
  { name: 'untrusted SPIFFE ID, allowed', via: { door: 'sleep' }, path: '/hello', status: 200, decision: undefined },
  { name: 'untrusted SPIFFE ID, denied', via: { door: 'sleep' }, path: '/private/x', status: 403, decision: undefined },
  { name: 'untrusted address, allowed', via: { vip: WEB, from: '127.0.0.1' }, path: '/hello', status: 200, decision: undefined },
  { name: 'untrusted address, 404 NR', via: { vip: API, from: '127.0.0.1' }, path: '/other', status: 404, decision: undefined },
  { name: 'untrusted address, 503 UH', via: { vip: EMPTY, from: '127.0.0.1' }, path: '/', status: 503, decision: undefined },
];

for (const c of cases) {
  test(`x-waypoint-decision: ${c.name}`, async () => {
    const door = 'door' in c.via ? doors[c.via.door] : undefined;
    const res = 'door' in c.via
      ? await get('127.0.0.1', door?.port ?? 0, c.path)
      : await get(c.via.vip, 80, c.path, c.via.from);
    assert.equal(res.status, c.status);
    assert.equal(res.decision, c.decision);
    assert.doesNotMatch(res.decision ?? '', /s3cret|Bearer|forged/);
  });
}

test('x-waypoint-decision: the trusted sources are shown in /debug/summary', async () => {
  const [host, port] = mesh.admin.split(':');
  const res = await new Promise<string>((resolve, reject) => {
    http.get({ host, port: Number(port), path: '/debug/summary', agent: false }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => (text += c));
      r.on('end', () => resolve(text));
    }).on('error', reject);
  });
  assert.deepEqual((JSON.parse(res) as { decisionHeader: unknown }).decisionHeader, { trusted: [`${TRUSTED_IP}/32`, DEBUG] });
});
