// End to end: /debug/requests records each request's decision trace (route, policies, backend, flags)
// with secrets redacted and filters by service/status/limit; /logging changes the log level; and
// `waypoint explain` on the same config gives the same decisions as the live proxy for the same request.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { explainCommand, stable } from '../../src/cli/explain-command.js';
import type { DecisionTrace } from '../../src/debug/decision-trace.js';
import { silentLogger } from '../../src/observability/logger.js';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';
import { type IdentityDoor, identityDoor } from './authz-identity.js';

const vip = vipRange();
const WEB = vip(1);
const API = vip(2);
const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';
const OTHER = 'spiffe://cluster.local/ns/bar/sa/other';
let mesh: TestMesh;
let web: Backend;
const doors: Record<string, IdentityDoor> = {};

const policy = (name: string, spec: string): string =>
  `---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n  targetRefs:\n  - {kind: Service, group: "", name: web}\n${spec}\n`;

const ROUTE = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: default
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: api, port: 80}]
  - backendRefs: [{name: web, port: 80}]
`;

before(async () => {
  web = await startBackend('web');
  const ep = [`127.0.0.1:${web.port}`];
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'web', vip: WEB, endpoints: ep }),
      serviceYaml({ name: 'api', vip: API, endpoints: ep }),
      ROUTE,
      policy('web-allow', '  rules:\n  - from: [{source: {principals: ["cluster.local/ns/foo/sa/sleep"]}}]'),
      policy('web-deny', '  action: DENY\n  rules:\n  - to: [{operation: {paths: ["/private/*"]}}]'),
    ].join('\n'),
  });
  doors['sleep'] = await identityDoor(mesh.waypoint, `${WEB}:80`, SLEEP);
  doors['other'] = await identityDoor(mesh.waypoint, `${WEB}:80`, OTHER);
});

after(async () => {
  for (const d of Object.values(doors)) await d.close();
  await mesh.close();
  await web.close();
});

async function admin(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const [host, port] = mesh.admin.split(':');
  const res = await request(host ?? '127.0.0.1', Number(port), { path, method });
  return { status: res.status, body: res.body };
}

async function recorded(query: string): Promise<DecisionTrace[]> {
  const res = await admin(`/debug/requests${query}`);
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as { requests: DecisionTrace[] }).requests;
}

/** The ring is written by the observer when the exchange is over, which can be just after the client saw the end. */
async function latest(): Promise<DecisionTrace> {
  for (let i = 0; i < 100; i++) {
    const t = mesh.waypoint.requests?.query({ limit: 1 })[0];
    if (t !== undefined && t.id > lastId) {
      lastId = t.id;
      return t;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no trace recorded');
}
let lastId = 0;

interface Case {
  readonly name: string;
  readonly door: 'sleep' | 'other';
  readonly from: string;
  readonly path: string;
  readonly status: number;
  readonly route: string | undefined;
  readonly cluster: RegExp | undefined;
  readonly outcomes: Readonly<Record<string, string>>;
  readonly expect: 'allow' | 'deny';
}

const cases: ReadonlyArray<Case> = [
  { name: 'allowed principal, default rule', door: 'sleep', from: SLEEP, path: '/hello', status: 200, route: 'default.web.1', cluster: /web\.default/, outcomes: { 'default/web-allow': 'allowed', 'default/web-deny': 'no-match' }, expect: 'allow' },
  { name: 'allowed principal, first rule to api', door: 'sleep', from: SLEEP, path: '/v2/items', status: 200, route: 'default.web.0', cluster: /api\.default/, outcomes: { 'default/web-allow': 'allowed', 'default/web-deny': 'no-match' }, expect: 'allow' },
  { name: 'DENY policy names itself', door: 'sleep', from: SLEEP, path: '/private/x', status: 403, route: undefined, cluster: undefined, outcomes: { 'default/web-allow': 'allowed', 'default/web-deny': 'denied' }, expect: 'deny' },
  { name: 'no ALLOW match', door: 'other', from: OTHER, path: '/hello', status: 403, route: undefined, cluster: undefined, outcomes: { 'default/web-allow': 'no-match', 'default/web-deny': 'no-match' }, expect: 'deny' },
];

for (const c of cases) {
  test(`live trace and explain agree: ${c.name}`, async () => {
    const door = doors[c.door];
    assert.ok(door !== undefined);
    const res = await request('127.0.0.1', door.port, { path: c.path, headers: { host: `web.default.svc.cluster.local` } });
    assert.equal(res.status, c.status);
    const live = await latest();
    assert.equal(live.response.status, c.status);
    assert.equal(live.service, 'default/web');
    assert.equal(live.listener, `${WEB}:80`);
    assert.equal(live.route?.name, c.route);
    if (c.cluster === undefined) assert.equal(live.backend.cluster, undefined);
    else assert.match(live.backend.cluster ?? '', c.cluster);
    assert.deepEqual(Object.fromEntries(live.authorization.map((p) => [p.policy, p.outcome])), c.outcomes);
    // Envoy names the DENY rule that matched, or `none` when no ALLOW rule did.
    if (c.status === 403) assert.match(live.response.details, c.door === 'other' ? /^rbac_access_denied_matched_policy\[none\]$/ : /^rbac_access_denied_matched_policy\[ns\[default\]-policy\[web-deny\]-rule\[0\]\]$/);

    let out = '';
    let err = '';
    const code = await explainCommand({
      config: [mesh.dir], waypoint: undefined, meshConfigFile: undefined, clusterDomain: 'cluster.local', from: c.from, sourceIp: undefined,
      headers: [], jwt: undefined, expect: c.expect, output: 'json', method: 'GET', url: `http://web.default.svc.cluster.local${c.path}`,
    }, (s) => { out += s; }, (s) => { err += s; });
    assert.equal(code, 0, err);
    const offline = JSON.parse(out) as ReturnType<typeof stable>;
    const live2 = stable(live);
    for (const k of ['listener', 'service', 'port', 'route', 'backend', 'authorization', 'extAuthz', 'jwt', 'response'] as const) {
      assert.deepEqual(offline[k], JSON.parse(JSON.stringify(live2[k] ?? null)) ?? undefined, `${k} differs`);
    }
    assert.equal(offline.source.principal, c.from);
  });
}

test('explain --expect fails with exit 1 when the verdict differs', async () => {
  let err = '';
  const code = await explainCommand({
    config: [mesh.dir], waypoint: undefined, meshConfigFile: undefined, clusterDomain: 'cluster.local', from: OTHER, sourceIp: undefined,
    headers: [], jwt: undefined, expect: 'allow', output: 'text', method: 'GET', url: `http://${WEB}/hello`,
  }, () => undefined, (s) => { err += s; });
  assert.equal(code, 1);
  assert.match(err, /expected allow, got deny \(status 403\)/);
});

test('/debug/requests never records credentials', async () => {
  const door = doors['sleep'];
  assert.ok(door !== undefined);
  await request('127.0.0.1', door.port, {
    path: '/hello?access_token=SECRET-QUERY&page=2',
    headers: { authorization: 'Bearer SECRET-BEARER', cookie: 'session=SECRET-COOKIE', 'x-api-key': 'SECRET-KEY', 'x-my-token': 'SECRET-TOKEN', 'x-plain': 'visible' },
  });
  const t = await latest();
  const body = (await admin('/debug/requests?limit=1')).body;
  assert.doesNotMatch(body, /SECRET/);
  assert.equal(t.request.path, '/hello?access_token=[redacted]&page=2');
  assert.equal(t.request.headers['authorization'], '[redacted]');
  assert.equal(t.request.headers['cookie'], '[redacted]');
  assert.equal(t.request.headers['x-plain'], 'visible');
});

const filters: ReadonlyArray<{ readonly query: string; readonly check: (ts: DecisionTrace[]) => void }> = [
  { query: '?status=403', check: (ts) => assert.ok(ts.length >= 2 && ts.every((t) => t.response.status === 403)) },
  { query: '?status=2xx', check: (ts) => assert.ok(ts.length >= 2 && ts.every((t) => t.response.status === 200)) },
  { query: '?service=default/web&limit=1', check: (ts) => assert.equal(ts.length, 1) },
  { query: '?service=web&limit=3', check: (ts) => assert.equal(ts.length, 3) },
  { query: '?service=nothing', check: (ts) => assert.equal(ts.length, 0) },
];

for (const f of filters) {
  test(`/debug/requests${f.query}`, async () => {
    f.check(await recorded(f.query));
  });
}

test('/debug/requests rejects a bad limit', async () => {
  assert.equal((await admin('/debug/requests?limit=-1')).status, 400);
});

test('/logging reads and changes the log level', async () => {
  const before = silentLogger.level;
  try {
    assert.equal((await admin('/logging')).body, `active level: ${before}\n`);
    assert.equal((await admin('/logging?level=debug')).status, 405);
    assert.equal((await admin('/logging?level=loud', 'POST')).status, 400);
    const res = await admin('/logging?level=warn', 'POST');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'active level: warn\n');
    assert.equal(silentLogger.level, 'warn');
  } finally {
    silentLogger.level = before;
  }
});
