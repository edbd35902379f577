// End to end: DestinationRule trafficPolicy.loadBalancer on the destination Service: consistent hash by header
// (ring hash), query parameter (Maglev) and source IP stays on one endpoint; ROUND_ROBIN cycles evenly;
// LEAST_REQUEST avoids a backend with requests in flight; portLevelSettings override; /config_dump shows the policy.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { type Backend, echo, startBackend } from '../harness/backends.js';
import { request, whoAnswers } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh, waitFor } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
const backends: Backend[] = [];
let slow: Backend;
let fast: Backend;
const held: Array<() => void> = [];

const dr = (name: string, service: string, trafficPolicy: string): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: default}
spec:
  host: ${service}
  trafficPolicy:
${trafficPolicy.split('\n').map((l) => `    ${l}`).join('\n')}
`;

before(async () => {
  const first = await startBackend('ep-1');
  backends.push(first);
  for (const n of [2, 3]) backends.push(await startBackend(`ep-${n}`, undefined, `127.0.0.${n}`, first.port));
  // The slow backend holds every response until the test releases it: its active count stays up.
  slow = await startBackend('slow', (req, res, name) => void held.push(() => echo(req, res, name)));
  fast = await startBackend('fast', undefined, '127.0.0.2', slow.port);
  const eps = backends.map((b) => `${b.address}:${b.port}`);
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'by-header', vip: vip(1), endpoints: eps }),
      serviceYaml({ name: 'by-query', vip: vip(2), endpoints: eps }),
      serviceYaml({ name: 'by-source', vip: vip(3), endpoints: eps }),
      serviceYaml({ name: 'rr', vip: vip(4), endpoints: eps }),
      serviceYaml({ name: 'by-cookie', vip: vip(6), endpoints: eps }),
      serviceYaml({ name: 'skew', vip: vip(5), endpoints: [`127.0.0.1:${slow.port}`, `127.0.0.2:${slow.port}`] }),
      dr('by-header', 'by-header', 'loadBalancer:\n  consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 2048}}'),
      dr('by-query', 'by-query.default.svc.cluster.local', 'loadBalancer:\n  consistentHash: {httpQueryParameterName: user, maglev: {tableSize: 65537}}'),
      dr('by-source', 'by-source', 'loadBalancer:\n  consistentHash: {useSourceIp: true}'),
      // The top level says RANDOM; the port-level setting for port 80 wins.
      dr('rr', 'rr', 'loadBalancer: {simple: RANDOM}\nportLevelSettings:\n- port: {number: 80}\n  loadBalancer: {simple: ROUND_ROBIN}'),
      dr('by-cookie', 'by-cookie', 'loadBalancer:\n  consistentHash: {httpCookie: {name: session}}'),
      dr('skew', 'skew', 'loadBalancer: {simple: LEAST_REQUEST}'),
    ].join(''),
  });
});

after(async () => {
  for (const release of held.splice(0)) release();
  await mesh.close();
  for (const b of [...backends, slow, fast]) await b.close();
});

/** Which backend answers a request from a given loopback source address. */
function fromSource(localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: vip(3), port: 80, path: '/', localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-backend'])));
    });
    req.on('error', reject);
    req.end();
  });
}

const stickiness = [
  { name: 'ring hash on a header', ask: (user: string) => whoAnswers(vip(1), 80, { headers: { 'x-user': user } }) },
  { name: 'Maglev on a query parameter', ask: (user: string) => whoAnswers(vip(2), 80, { path: `/items?a=1&user=${user}` }) },
  { name: 'ring hash on a cookie', ask: (user: string) => whoAnswers(vip(6), 80, { headers: { cookie: `theme=dark; session=${user}` } }) },
  { name: 'ring hash on the source IP', ask: (user: string) => fromSource(`127.0.0.${20 + Number(user.split('-')[1])}`) },
];

for (const c of stickiness) {
  test(`consistentHash (${c.name}): every request with the same key reaches the same endpoint`, async () => {
    const chosen = new Set<string>();
    for (let u = 0; u < 12; u++) {
      const user = `user-${u}`;
      const answers = new Set<string>();
      for (let i = 0; i < 4; i++) answers.add(await c.ask(user));
      assert.equal(answers.size, 1, `${user} stays on one endpoint: ${[...answers].join(', ')}`);
      const [only] = answers;
      assert.match(only ?? '', /^ep-\d$/);
      chosen.add(only ?? '');
    }
    assert.ok(chosen.size >= 2, `different keys spread over the endpoints: ${[...chosen].join(', ')}`);
  });
}

test('consistentHash: a request without the key is still served', async () => {
  assert.match(await whoAnswers(vip(1), 80), /^ep-\d$/);
  assert.match(await whoAnswers(vip(2), 80, { path: '/items?other=1' }), /^ep-\d$/);
});

test('ROUND_ROBIN (port-level setting over the top-level RANDOM) cycles through the endpoints evenly', async () => {
  const counts = new Map<string, number>();
  let previous = '';
  for (let i = 0; i < 30; i++) {
    const who = await whoAnswers(vip(4), 80);
    assert.notEqual(who, previous, 'two requests in a row never go to the same endpoint');
    previous = who;
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  assert.deepEqual([...counts.values()], [10, 10, 10]);
});

test('LEAST_REQUEST: an endpoint with a request in flight gets no more while the other is idle', async () => {
  const pending: Array<Promise<string>> = [];
  for (let i = 0; i < 20; i++) {
    const before = fast.hits();
    const answer = whoAnswers(vip(5), 80);
    pending.push(answer);
    // Wait until the request reached a backend, and for the idle one until it is done, so the next pick sees the counts.
    await waitFor(() => slow.hits() + fast.hits() === i + 1);
    if (fast.hits() > before) await answer;
  }
  assert.ok(slow.hits() <= 1, `the held endpoint got ${slow.hits()} requests`);
  assert.ok(fast.hits() >= 19, `the idle endpoint got ${fast.hits()} requests`);
  for (const release of held.splice(0)) release();
  const answers = await Promise.all(pending);
  assert.equal(answers.filter((a) => a === 'slow').length, slow.hits());
});

test('/config_dump shows each cluster\'s load-balancing policy', async () => {
  const [host, port] = mesh.admin.split(':');
  const dump = JSON.parse((await request(host ?? '127.0.0.1', Number(port), { path: '/config_dump' })).body) as { clusters: Array<{ id: string; lbPolicy?: unknown }> };
  const lb = (id: string): unknown => dump.clusters.find((c) => c.id.endsWith(`|${id}.default.svc.cluster.local`))?.lbPolicy;
  assert.deepEqual(lb('by-header'), { RING_HASH: { ringSize: 2049 }, hashPolicy: { header: 'x-user' } });
  assert.deepEqual(lb('by-query'), { MAGLEV: { tableSize: 65537 }, hashPolicy: { query: 'user' } });
  assert.deepEqual(lb('rr'), 'ROUND_ROBIN');
  assert.deepEqual(lb('skew'), 'LEAST_REQUEST');
});
