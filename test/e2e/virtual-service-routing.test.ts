// End to end: a VirtualService on a Service bound to the waypoint, with real backends: uri/header/query/method
// matches in VS order, weights, rewrite (prefix, regex, authority), redirect, header edits at route and
// destination level, direct responses (string and bytes), mirror, CORS, an unknown destination (503 NC),
// no match (404 NR), and an HTTPRoute on another Service shadowing the VirtualService there.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { type Backend, type EchoReply, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh, waitFor } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
let v1: Backend;
let v2: Backend;
let shadow: Backend;
const BYTES = Buffer.from([0xff, 0x00, 0x01, 0x61]);

const VS = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: front, namespace: default}
spec:
  hosts: [front]
  http:
  - name: exact
    match: [{uri: {exact: /exact}}]
    route: [{destination: {host: v1}}]
  - name: caseless
    match: [{uri: {prefix: /CaseLess}, ignoreUriCase: true}]
    route: [{destination: {host: v2}}]
  - name: regex
    match: [{uri: {regex: "/items/[0-9]+"}}]
    route: [{destination: {host: v2}}]
  - name: header
    match: [{uri: {prefix: /h}, headers: {end-user: {prefix: jas}}}]
    route: [{destination: {host: v2}}]
  - name: without
    match: [{uri: {prefix: /w}, withoutHeaders: {x-skip: {}}}]
    route: [{destination: {host: v2}}]
  - name: query-method
    match: [{uri: {prefix: /q}, queryParams: {v: {exact: "2"}}, method: {exact: POST}}]
    route: [{destination: {host: v2}}]
  - name: rewrite
    match: [{uri: {prefix: /old}}]
    rewrite: {uri: /new, authority: rewritten.example}
    route: [{destination: {host: v1}}]
  - name: regex-rewrite
    match: [{uri: {prefix: /rx/}}]
    rewrite: {uriRegexRewrite: {match: "^/rx/([^/]+)/(.*)$", rewrite: "/\\\\2/\\\\1"}}
    route: [{destination: {host: v1}}]
  - name: redirect
    match: [{uri: {prefix: /moved}}]
    redirect: {uri: /here, authority: elsewhere.example, redirectCode: 308}
  - name: direct
    match: [{uri: {exact: /direct}}]
    directResponse: {status: 418, body: {string: "short and stout"}}
  - name: direct-bytes
    match: [{uri: {exact: /bytes}}]
    directResponse: {status: 200, body: {bytes: "${BYTES.toString('base64')}"}}
  - name: headers
    match: [{uri: {prefix: /headers}}]
    headers:
      request: {set: {x-set: one}, add: {x-add: two}, remove: [x-drop]}
      response: {set: {x-resp: "yes"}, remove: [content-type]}
    route:
    - destination: {host: v1}
      headers: {request: {set: {x-dest: v1}}, response: {add: {x-dest-resp: v1}}}
  - name: split
    match: [{uri: {prefix: /split}}]
    route: [{destination: {host: v1}, weight: 75}, {destination: {host: v2}, weight: 25}]
  - name: mirror
    match: [{uri: {prefix: /mirror}}]
    route: [{destination: {host: v1}}]
    mirror: {host: shadow}
    mirrorPercentage: {value: 100}
  - name: mirrors
    match: [{uri: {prefix: /mirrors}}]
    route: [{destination: {host: v1}}]
    mirrors: [{destination: {host: shadow}, percentage: {value: 100}}, {destination: {host: v2}, percentage: {value: 0}}]
  - name: authority
    match: [{uri: {prefix: /auth}, authority: {exact: special.example}}, {uri: {prefix: /auth}, scheme: {exact: https}}]
    route: [{destination: {host: v2}}]
  - name: cors
    match: [{uri: {prefix: /cors}}]
    corsPolicy:
      allowOrigins: [{exact: "https://ok.example"}, {regex: "https://.*[.]trusted[.]example"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-a]
      exposeHeaders: [x-b]
      maxAge: 60s
      allowCredentials: true
    route: [{destination: {host: v1}}]
  - name: missing
    match: [{uri: {prefix: /missing}}]
    route: [{destination: {host: nowhere}}]
  - name: fallback
    match: [{uri: {prefix: /fallback}}]
    route: [{destination: {host: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shadowed, namespace: default}
spec:
  hosts: [shadowed]
  http:
  - directResponse: {status: 418}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shadowed, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: shadowed, port: 80}]
  rules: [{backendRefs: [{name: v1, port: 80}]}]
`;

before(async () => {
  v1 = await startBackend('v1');
  v2 = await startBackend('v2');
  shadow = await startBackend('shadow');
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'front', vip: vip(1), endpoints: [`127.0.0.1:${v1.port}`] }),
      serviceYaml({ name: 'v1', vip: vip(2), endpoints: [`127.0.0.1:${v1.port}`] }),
      serviceYaml({ name: 'v2', vip: vip(3), endpoints: [`127.0.0.1:${v2.port}`] }),
      serviceYaml({ name: 'shadow', vip: vip(4), endpoints: [`127.0.0.1:${shadow.port}`] }),
      serviceYaml({ name: 'shadowed', vip: vip(5), endpoints: [`127.0.0.1:${v2.port}`] }),
      VS,
    ].join(''),
  });
});

after(async () => {
  await mesh.close();
  for (const b of [v1, v2, shadow]) await b.close();
});

const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): ReturnType<typeof request> => request(vip(1), 80, { path, headers, method });
const echoOf = (body: string): EchoReply => JSON.parse(body) as EchoReply;

const matching: Array<{ name: string; path: string; headers?: Record<string, string>; method?: string; backend: string }> = [
  { name: 'uri exact', path: '/exact', backend: 'v1' },
  { name: 'uri exact does not match a longer path (falls to no route)', path: '/exact/more', backend: 'status 404' },
  { name: 'uri prefix with ignoreUriCase', path: '/caseless/x', backend: 'v2' },
  { name: 'uri regex (RE2, full match)', path: '/items/42', backend: 'v2' },
  { name: 'uri regex does not match a partial path', path: '/items/42x', backend: 'status 404' },
  { name: 'header prefix', path: '/h', headers: { 'end-user': 'jason' }, backend: 'v2' },
  { name: 'header prefix that does not match', path: '/h', headers: { 'end-user': 'bob' }, backend: 'status 404' },
  { name: 'withoutHeaders: header absent', path: '/w', backend: 'v2' },
  { name: 'withoutHeaders: header present', path: '/w', headers: { 'x-skip': '1' }, backend: 'status 404' },
  { name: 'query param and method', path: '/q?a=1&v=2', method: 'POST', backend: 'v2' },
  { name: 'query param with the wrong method', path: '/q?v=2', backend: 'status 404' },
  { name: 'plain prefix (Envoy prefix, not segment-wise)', path: '/fallbackish', backend: 'v1' },
];

for (const c of matching) {
  test(`VirtualService match: ${c.name}`, async () => {
    const res = await get(c.path, c.headers, c.method);
    assert.equal(typeof res.headers['x-backend'] === 'string' ? res.headers['x-backend'] : `status ${res.status}`, c.backend);
  });
}

test('no VS route matches: 404 NR, empty body', async () => {
  const res = await get('/nothing-here');
  assert.equal(res.status, 404);
  assert.equal(res.body, '');
  await waitFor(() => mesh.records.some((r) => r.flag === 'NR' && r.details === 'route_not_found'));
});

test('rewrite: the matched prefix is replaced, the query kept, the Host rewritten, x-envoy-original-path sent', async () => {
  const e = echoOf((await get('/old/page?x=1')).body);
  assert.equal(e.path, '/new/page?x=1');
  assert.equal(e.headers['host'], 'rewritten.example');
  assert.equal(e.headers['x-envoy-original-path'], '/old/page?x=1');
});

test('uriRegexRewrite substitutes capture groups', async () => {
  assert.equal(echoOf((await get('/rx/abc/def/g')).body).path, '/def/g/abc');
});

test('redirect: 308 to the new authority and path, query kept, never forwarded', async () => {
  const hits = v1.hits() + v2.hits();
  const res = await get('/moved?x=1');
  assert.equal(res.status, 308);
  assert.equal(res.headers['location'], 'http://elsewhere.example/here?x=1');
  assert.equal(v1.hits() + v2.hits(), hits);
});

test('directResponse with a string body', async () => {
  const res = await get('/direct');
  assert.equal(res.status, 418);
  assert.equal(res.body, 'short and stout');
  assert.equal(res.headers['content-type'], 'text/plain');
  await waitFor(() => mesh.records.some((r) => r.status === 418 && r.details === 'direct_response' && r.flag === undefined));
});

test('directResponse with a bytes body is sent byte for byte', async () => {
  const body = await new Promise<Buffer>((resolve, reject) => {
    http.get({ host: vip(1), port: 80, path: '/bytes', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    }).on('error', reject);
  });
  assert.deepEqual(body, BYTES);
});

test('headers: route and destination request edits reach the backend; response edits reach the client', async () => {
  const res = await get('/headers', { 'x-drop': 'gone', 'x-add': 'one' });
  const e = echoOf(res.body);
  assert.equal(e.headers['x-set'], 'one');
  assert.equal(e.headers['x-add'], 'one, two');
  assert.equal(e.headers['x-drop'], undefined);
  assert.equal(e.headers['x-dest'], 'v1');
  assert.equal(res.headers['x-resp'], 'yes');
  assert.equal(res.headers['x-dest-resp'], 'v1');
  assert.equal(res.headers['content-type'], undefined);
});

test('weights 75/25 split traffic between the destinations', async () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const who = String((await get('/split')).headers['x-backend']);
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  const first = counts.get('v1') ?? 0;
  assert.equal(first + (counts.get('v2') ?? 0), 200);
  assert.ok(first > 120 && first < 185, `v1 got ${first} of 200 (expected about 150)`);
});

test('mirror: the request is copied to the mirror Service (Host with -shadow) and the client gets the primary answer', async () => {
  const before = shadow.hits();
  const res = await get('/mirror');
  assert.equal(res.headers['x-backend'], 'v1');
  await waitFor(() => shadow.hits() > before);
});

test('mirrors: a 100% mirror gets a copy, a 0% one none', async () => {
  const before = shadow.hits();
  const v2Before = v2.hits();
  assert.equal((await get('/mirrors')).headers['x-backend'], 'v1');
  await waitFor(() => shadow.hits() > before);
  assert.equal(v2.hits(), v2Before);
});

test('authority match reads the Host; a scheme https match never matches mesh (plaintext) traffic', async () => {
  assert.equal((await get('/auth', { host: 'special.example' })).headers['x-backend'], 'v2');
  assert.equal((await get('/auth')).status, 404);
});

test('CORS: a preflight from an allowed origin is answered by the waypoint', async () => {
  const hits = v1.hits();
  const res = await get('/cors', { origin: 'https://ok.example', 'access-control-request-method': 'POST' }, 'OPTIONS');
  assert.equal(res.status, 200);
  assert.equal(res.headers['access-control-allow-origin'], 'https://ok.example');
  assert.equal(res.headers['access-control-allow-methods'], 'GET,POST');
  assert.equal(res.headers['access-control-allow-headers'], 'x-a');
  assert.equal(res.headers['access-control-max-age'], '60');
  assert.equal(res.headers['access-control-allow-credentials'], 'true');
  assert.equal(v1.hits(), hits, 'not forwarded');
});

test('CORS: a preflight from another origin is forwarded; an actual request from a regex origin gets the CORS headers', async () => {
  const preflight = await get('/cors', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }, 'OPTIONS');
  assert.equal(preflight.headers['x-backend'], 'v1');
  assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  const actual = await get('/cors', { origin: 'https://a.trusted.example' });
  assert.equal(actual.headers['access-control-allow-origin'], 'https://a.trusted.example');
  assert.equal(actual.headers['access-control-expose-headers'], 'x-b');
});

test('a destination that is not a Service: 503 NC (Envoy cluster_not_found)', async () => {
  const res = await get('/missing');
  assert.equal(res.status, 503);
  await waitFor(() => mesh.records.some((r) => r.status === 503 && r.flag === 'NC' && r.details === 'cluster_not_found'));
});

test('an HTTPRoute on a Service shadows its VirtualService: the HTTPRoute answers, the VS is reported', async () => {
  const res = await request(vip(5), 80, { path: '/' });
  assert.equal(res.headers['x-backend'], 'v1');
  const dump = JSON.parse((await request('127.0.0.1', Number(mesh.admin.split(':')[1]), { path: '/config_dump' })).body) as { diagnostics: Array<{ code: string; resource: string }> };
  assert.ok(dump.diagnostics.some((d) => d.code === 'virtual-service-shadowed' && d.resource === 'VirtualService default/shadowed'));
});
