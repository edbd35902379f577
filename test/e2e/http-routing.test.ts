// End to end: HTTPRoute matching, precedence across routes, weights and invalid backends, through
// real VIP listeners to real backends.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request, whoAnswers } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
const FRONT = vip(1);
let mesh: TestMesh;
const backends: Record<string, Backend> = {};

function route(name: string, rules: string, extra = ''): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
  namespace: default${extra}
spec:
  parentRefs:
    - group: ""
      kind: Service
      name: front
      port: 80
  rules:
${rules}`;
}

const to = (svc: string, weight?: number): string => `        - name: ${svc}\n          port: 80${weight === undefined ? '' : `\n          weight: ${weight}`}\n`;

before(async () => {
  for (const name of ['a', 'b', 'c', 'd', 'e']) backends[name] = await startBackend(name);
  const svc = (name: string, n: number): string => serviceYaml({ name, vip: vip(n), endpoints: [`127.0.0.1:${backends[name]?.port ?? 0}`] });
  const config = [
    meshPreamble(),
    serviceYaml({ name: 'front', vip: FRONT, endpoints: [`127.0.0.1:${backends['e']?.port ?? 0}`] }),
    svc('a', 2), svc('b', 3), svc('c', 4), svc('d', 5),
    serviceYaml({ name: 'empty', vip: vip(6), endpoints: [] }),
    route('matches', `    - matches:
        - path: {type: Exact, value: /exact}
      backendRefs:
${to('a')}    - matches:
        - path: {type: PathPrefix, value: /prefix}
      backendRefs:
${to('b')}    - matches:
        - path: {type: PathPrefix, value: /prefix/longer}
      backendRefs:
${to('c')}    - matches:
        - path: {type: RegularExpression, value: "/re/[0-9]+"}
      backendRefs:
${to('d')}    - matches:
        - path: {type: PathPrefix, value: /hdr}
          headers:
            - name: X-Version
              value: v2
      backendRefs:
${to('b')}    - matches:
        - path: {type: PathPrefix, value: /hdr}
      backendRefs:
${to('a')}    - matches:
        - path: {type: PathPrefix, value: /q}
          queryParams:
            - name: env
              value: canary
      backendRefs:
${to('c')}    - matches:
        - path: {type: PathPrefix, value: /m}
          method: POST
      backendRefs:
${to('d')}    - matches:
        - path: {type: PathPrefix, value: /weights}
      backendRefs:
${to('a', 3)}${to('b', 1)}${to('c', 0)}    - matches:
        - path: {type: PathPrefix, value: /zero}
      backendRefs:
${to('a', 0)}    - matches:
        - path: {type: PathPrefix, value: /half-invalid}
      backendRefs:
${to('a')}${to('missing')}    - matches:
        - path: {type: PathPrefix, value: /no-endpoints}
      backendRefs:
${to('empty')}`),
    // A newer route with the same prefix as an older one loses the tie; it wins where it is more specific.
    route('newer', `    - matches:
        - path: {type: PathPrefix, value: /tie}
      backendRefs:
${to('b')}    - matches:
        - path: {type: PathPrefix, value: /prefix}
          method: GET
      backendRefs:
${to('d')}`, '\n  creationTimestamp: "2024-02-01T00:00:00Z"'),
    route('older', `    - matches:
        - path: {type: PathPrefix, value: /tie}
      backendRefs:
${to('a')}`, '\n  creationTimestamp: "2024-01-01T00:00:00Z"'),
  ].join('');
  mesh = await startMesh({ 'mesh.yaml': config });
});

after(async () => {
  await mesh.close();
  for (const b of Object.values(backends)) await b.close();
});

const cases: ReadonlyArray<{ name: string; path: string; method?: string; headers?: Record<string, string>; want: string }> = [
  { name: 'exact path matches only that path', path: '/exact', want: 'a' },
  { name: 'exact path does not match a trailing slash', path: '/exact/', want: 'status 404' },
  { name: 'prefix matches on segment boundaries', path: '/prefix/x', want: 'd' },
  { name: 'prefix does not match a longer segment', path: '/prefixes', want: 'status 404' },
  { name: 'longest prefix wins', path: '/prefix/longer/x', method: 'POST', want: 'c' },
  { name: 'method match beats the older shorter-prefix route', path: '/prefix/y', method: 'GET', want: 'd' },
  { name: 'prefix without method', path: '/prefix/y', method: 'POST', want: 'b' },
  { name: 'regex matches the whole path', path: '/re/123', want: 'd' },
  { name: 'regex does not match a partial path', path: '/re/123/x', want: 'status 404' },
  { name: 'header match wins over the same path without headers', path: '/hdr', headers: { 'x-version': 'v2' }, want: 'b' },
  { name: 'header value is case-sensitive', path: '/hdr', headers: { 'x-version': 'V2' }, want: 'a' },
  { name: 'query param match', path: '/q?env=canary', want: 'c' },
  { name: 'query param mismatch falls through', path: '/q?env=prod', want: 'status 404' },
  { name: 'method match', path: '/m', method: 'POST', want: 'd' },
  { name: 'method mismatch', path: '/m', method: 'GET', want: 'status 404' },
  { name: 'oldest route wins a tie', path: '/tie', want: 'a' },
  { name: 'no matching rule answers 404', path: '/nothing', want: 'status 404' },
  { name: 'all-zero weights answer 500', path: '/zero', want: 'status 500' },
  { name: 'no ready endpoint answers 503', path: '/no-endpoints', want: 'status 503' },
];

for (const c of cases) {
  test(c.name, async () => {
    const got = await whoAnswers(FRONT, 80, { path: c.path, method: c.method ?? 'GET', headers: c.headers ?? {} });
    assert.equal(got, c.want);
  });
}

test('404 for no matching rule carries flag NR and an empty body', async () => {
  const res = await request(FRONT, 80, { path: '/nothing-here' });
  assert.equal(res.status, 404);
  assert.equal(res.body, '');
  assert.equal(res.headers['server'], 'istio-envoy');
  const rec = mesh.records.at(-1);
  assert.deepEqual([rec?.flag, rec?.details], ['NR', 'route_not_found']);
});

test('no healthy upstream: 503 with Envoy body and flag UH', async () => {
  const res = await request(FRONT, 80, { path: '/no-endpoints' });
  assert.deepEqual([res.status, res.body, res.headers['content-type']], [503, 'no healthy upstream', 'text/plain']);
  assert.equal(mesh.records.at(-1)?.flag, 'UH');
});

test('weights split traffic 3:1 and weight 0 gets nothing', async () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 400; i++) {
    const who = await whoAnswers(FRONT, 80, { path: '/weights' });
    counts[who] = (counts[who] ?? 0) + 1;
  }
  assert.equal(counts['c'], undefined);
  // Binomial(400, 0.75): mean 300, sd ~8.7; 5 sd of tolerance.
  assert.ok(Math.abs((counts['a'] ?? 0) - 300) < 45, JSON.stringify(counts));
  assert.equal((counts['a'] ?? 0) + (counts['b'] ?? 0), 400);
});

test('an invalid backend gets 500 for its share of traffic', async () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 200; i++) {
    const who = await whoAnswers(FRONT, 80, { path: '/half-invalid' });
    counts[who] = (counts[who] ?? 0) + 1;
  }
  assert.deepEqual(Object.keys(counts).sort(), ['a', 'status 500']);
  assert.ok(Math.abs((counts['a'] ?? 0) - 100) < 36, JSON.stringify(counts));
  const invalid = mesh.records.find((r) => r.status === 500 && r.flag === 'NC');
  assert.equal(invalid?.details, 'cluster_not_found');
});

test('a Service with no route load-balances over its own endpoints', async () => {
  assert.equal(await whoAnswers(vip(2), 80, { path: '/anything' }), 'a');
  const rec = mesh.records.at(-1);
  assert.equal(rec?.route, 'default');
  assert.match(rec?.cluster ?? '', /^inbound-vip\|80\|http\|a\.default\.svc\.cluster\.local$/);
});
