// End to end: AuthorizationPolicy ALLOW/DENY/AUDIT/dry-run at the waypoint over real sockets, with
// client identities fed in as an HBONE tunnel would; path normalization before matching; L4 policies
// on a TCP port (deny closes the connection); policy status in /config_dump.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type Backend, type EchoReply, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';
import { type IdentityDoor, identityDoor } from './authz-identity.js';

const vip = vipRange();
const WEB = vip(1);
const DB = vip(2);
const LOCKED = vip(3);
const OPEN = vip(4);
const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';
const OTHER = 'spiffe://cluster.local/ns/bar/sa/other';
let mesh: TestMesh;
let web: Backend;
let tcpEcho: net.Server;
const doors: Record<string, IdentityDoor> = {};

const policy = (name: string, spec: string, extra = ''): string =>
  `---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: default${extra}\nspec:\n${spec}\n`;
const onService = (svc: string): string => `  targetRefs:\n  - {kind: Service, group: "", name: ${svc}}\n`;

before(async () => {
  web = await startBackend('web');
  tcpEcho = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', () => r()));
  const echoPort = (tcpEcho.address() as AddressInfo).port;
  const ep = [`127.0.0.1:${web.port}`];
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'web', vip: WEB, endpoints: ep }),
      serviceYaml({ name: 'db', vip: DB, port: 5432, portName: 'tcp', endpoints: [`127.0.0.1:${echoPort}`] }),
      serviceYaml({ name: 'locked', vip: LOCKED, endpoints: ep }),
      serviceYaml({ name: 'open', vip: OPEN, endpoints: ep }),
      // ALLOW: only `sleep` (any path but /admin), or anyone presenting the right header on GET.
      policy('web-allow', `${onService('web')}  rules:
  - from: [{source: {principals: ["cluster.local/ns/foo/sa/sleep"]}}]
    to: [{operation: {notPaths: ["/admin", "/admin/*"]}}]
  - to: [{operation: {methods: ["GET"], paths: ["/public/*"]}}]
    when: [{key: "request.headers[x-token]", values: ["secret"]}]`),
      policy('web-deny', `${onService('web')}  action: DENY
  rules:
  - to: [{operation: {paths: ["/private/*"]}}]`),
      policy('web-dry-deny', `${onService('web')}  action: DENY
  rules:
  - to: [{operation: {paths: ["/public/dry"]}}]`, '\n  annotations:\n    istio.io/dry-run: "true"'),
      policy('web-audit', `${onService('web')}  action: AUDIT\n  rules: [{}]`),
      // Waypoint-wide DENY, attached to the Gateway. `ports` keeps it off the TCP port: on TCP the path is
      // dropped from a DENY rule, so without it every TCP connection through the waypoint would be denied.
      policy('gw-deny', `  targetRefs:\n  - {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}\n  action: DENY\n  rules:\n  - to: [{operation: {paths: ["/gateway-deny"], ports: ["80"]}}]`),
      // L4: only `sleep` may open connections to the TCP port; an L7 ALLOW rule there never matches.
      policy('db-allow', `${onService('db')}  rules:\n  - from: [{source: {principals: ["cluster.local/ns/foo/sa/sleep"]}}]\n  - to: [{operation: {methods: ["GET"]}}]`),
      // Invalid ALLOW: rejected, but kept in force as allow-nothing (fail closed).
      policy('locked-allow', `${onService('locked')}  rules:\n  - from: [{source: {ipBlocks: ["10.0.0.0/99"]}}]`),
      // Selector policy: ztunnel's, no effect at the waypoint.
      policy('ztunnel-only', `  selector: {matchLabels: {app: open}}\n  action: DENY\n  rules:\n  - to: [{operation: {methods: ["GET"], ports: ["80"]}}]`),
    ].join('\n'),
  });
  for (const [name, key, principal] of [
    ['web-sleep', `${WEB}:80`, SLEEP], ['web-other', `${WEB}:80`, OTHER], ['db-sleep', `${DB}:5432`, SLEEP], ['db-other', `${DB}:5432`, OTHER], ['locked-sleep', `${LOCKED}:80`, SLEEP],
  ] as const) doors[name] = await identityDoor(mesh.waypoint, key, principal);
});

after(async () => {
  for (const d of Object.values(doors)) await d.close();
  await mesh.close();
  await web.close();
  await new Promise<void>((r) => tcpEcho.close(() => r()));
});

interface HttpCase {
  readonly name: string;
  readonly door: string | undefined;
  readonly vip?: string;
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly details: string;
}

const cases: ReadonlyArray<HttpCase> = [
  { name: 'ALLOW principal matches', door: 'web-sleep', path: '/api', status: 200, details: 'via_upstream' },
  { name: 'ALLOW: another principal matches no rule', door: 'web-other', path: '/api', status: 403, details: 'rbac_access_denied_matched_policy[none]' },
  { name: 'ALLOW: no identity (plaintext) matches no rule', door: undefined, path: '/api', status: 403, details: 'rbac_access_denied_matched_policy[none]' },
  { name: 'ALLOW notPaths excludes /admin', door: 'web-sleep', path: '/admin', status: 403, details: 'rbac_access_denied_matched_policy[none]' },
  { name: 'path normalized before matching: /api/../admin is /admin', door: 'web-sleep', path: '/api/../admin', status: 403, details: 'rbac_access_denied_matched_policy[none]' },
  { name: 'path normalized: %61dmin is /admin', door: 'web-sleep', path: '/%61dmin', status: 403, details: 'rbac_access_denied_matched_policy[none]' },
  { name: 'encoded NUL is rejected with 400', door: 'web-sleep', path: '/a%00b', status: 400, details: 'path_normalization_failed' },
  { name: 'second rule: header + method + path, no identity needed', door: 'web-other', path: '/public/x', headers: { 'x-token': 'secret' }, status: 200, details: 'via_upstream' },
  { name: 'second rule: wrong header value', door: 'web-other', path: '/public/x', headers: { 'x-token': 'nope' }, status: 403, details: 'rbac_access_denied_matched_policy[none]' },
  { name: 'second rule: wrong method', door: 'web-other', method: 'POST', path: '/public/x', headers: { 'x-token': 'secret' }, status: 403, details: 'rbac_access_denied_matched_policy[none]' },
  { name: 'DENY wins over ALLOW', door: 'web-sleep', path: '/private/x', status: 403, details: 'rbac_access_denied_matched_policy[ns[default]-policy[web-deny]-rule[0]]' },
  { name: 'Gateway-attached DENY applies to every Service', door: 'web-sleep', path: '/gateway-deny', status: 403, details: 'rbac_access_denied_matched_policy[ns[default]-policy[gw-deny]-rule[0]]' },
  { name: 'Gateway-attached DENY on another Service', door: undefined, vip: OPEN, path: '/gateway-deny', status: 403, details: 'rbac_access_denied_matched_policy[ns[default]-policy[gw-deny]-rule[0]]' },
  { name: 'dry-run DENY is not enforced', door: 'web-other', path: '/public/dry', headers: { 'x-token': 'secret' }, status: 200, details: 'via_upstream' },
  { name: 'selector policy is not enforced by the waypoint', door: undefined, vip: OPEN, path: '/x', status: 200, details: 'via_upstream' },
  { name: 'rejected ALLOW stays in force as allow-nothing', door: 'locked-sleep', path: '/x', status: 403, details: 'rbac_access_denied_matched_policy[none]' },
];

for (const c of cases) {
  test(`http: ${c.name}`, async () => {
    const before = mesh.records.length;
    const port = c.door === undefined ? 80 : doors[c.door]?.port ?? 0;
    const host = c.door === undefined ? c.vip ?? WEB : '127.0.0.1';
    const res = await request(host, port, { method: c.method ?? 'GET', path: c.path, headers: { host: 'web.default', ...c.headers } });
    assert.equal(res.status, c.status);
    if (c.status === 403) {
      assert.equal(res.body, 'RBAC: access denied');
      assert.equal(res.headers['content-type'], 'text/plain');
    }
    const rec = mesh.records.slice(before).at(-1);
    assert.equal(rec?.details, c.details);
    assert.equal(rec?.flag, undefined);
  });
}

test('http: the normalized path is what goes upstream', async () => {
  const res = await request('127.0.0.1', doors['web-sleep']?.port ?? 0, { path: '/a/./b/../%63?q=/../x' });
  assert.equal(res.status, 200);
  assert.equal((JSON.parse(res.body) as EchoReply).path, '/a/c?q=/../x');
});

/** Opens a TCP connection, writes `ping`, and returns what came back before the peer closed or 1 s passed. */
function tcpRoundTrip(port: number, host = '127.0.0.1'): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    let data = '';
    let closed = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data, closed });
    }, 1000);
    s.on('connect', () => s.write('ping'));
    s.on('data', (d) => {
      data += d.toString();
      if (data === 'ping') {
        clearTimeout(timer);
        s.destroy();
        resolve({ data, closed });
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ data, closed });
    });
  });
}

const tcpCases: ReadonlyArray<{ name: string; door: string | undefined; echoed: boolean }> = [
  { name: 'ALLOW principal: bytes flow', door: 'db-sleep', echoed: true },
  { name: 'another principal: the connection is closed, nothing forwarded', door: 'db-other', echoed: false },
  { name: 'no identity: closed (the methods rule can never match on TCP)', door: undefined, echoed: false },
];

for (const c of tcpCases) {
  test(`tcp: ${c.name}`, async () => {
    const r = c.door === undefined ? await tcpRoundTrip(5432, DB) : await tcpRoundTrip(doors[c.door]?.port ?? 0);
    if (c.echoed) assert.equal(r.data, 'ping');
    else {
      assert.equal(r.data, '');
      assert.equal(r.closed, true);
    }
  });
}

interface PolicyStatusView {
  readonly name: string;
  readonly enforcedBy: string;
  readonly reason: string;
  readonly conditions: ReadonlyArray<{ type: string; status: string; reason: string; message: string }>;
  readonly ztunnel?: { summary: string };
}

test('status: where each policy is enforced, with Istio conditions', async () => {
  const dump = JSON.parse((await request(mesh.admin.split(':')[0] ?? '127.0.0.1', Number(mesh.admin.split(':')[1]), { path: '/config_dump' })).body) as { status: { authorizationPolicies: PolicyStatusView[] }; authorization?: unknown[] };
  const byName = new Map(dump.status.authorizationPolicies.map((p) => [p.name, p]));
  assert.equal(byName.get('web-allow')?.enforcedBy, 'this-waypoint');
  assert.deepEqual(byName.get('web-allow')?.conditions.map((c) => [c.type, c.status, c.reason, c.message]), [['WaypointAccepted', 'True', 'Accepted', 'bound to default/waypoint']]);
  assert.match(byName.get('gw-deny')?.reason ?? '', /every Service of this waypoint/);
  assert.equal(byName.get('ztunnel-only')?.enforcedBy, 'ztunnel');
  assert.deepEqual(byName.get('ztunnel-only')?.conditions.map((c) => [c.type, c.status, c.reason]), [['ZtunnelAccepted', 'True', 'UnsupportedValue']]);
  assert.match(byName.get('ztunnel-only')?.ztunnel?.summary ?? '', /denies on the L4 parts only/);
  assert.equal(byName.get('locked-allow')?.enforcedBy, 'this-waypoint');
  assert.deepEqual(byName.get('locked-allow')?.conditions.map((c) => [c.type, c.status, c.reason]), [['WaypointAccepted', 'False', 'Invalid']]);
  assert.ok(Array.isArray(dump.authorization) && dump.authorization.length > 0, '/config_dump lists the compiled policies');
});
