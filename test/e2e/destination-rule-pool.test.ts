// End to end: DestinationRule connectionPool.http.http2MaxRequests is a cluster circuit breaker: with the limit
// of requests in flight, the next request gets Envoy's overflow reply (503, flag UO) and nothing reaches the
// backend; once a slot frees, requests go through again. Another Service without the rule is not limited.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, echo, startBackend } from '../harness/backends.js';
import { request, type Response } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh, waitFor } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
let backend: Backend;
const held: Array<() => void> = [];

before(async () => {
  // Holds /hold until released; answers anything else at once.
  backend = await startBackend('pool', (req, res, name) => {
    if (req.url === '/hold') held.push(() => echo(req, res, name));
    else echo(req, res, name);
  });
  const ep = [`127.0.0.1:${backend.port}`];
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'limited', vip: vip(1), endpoints: ep }),
      serviceYaml({ name: 'open', vip: vip(2), endpoints: ep }),
      `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: limited, namespace: default}
spec:
  host: limited
  trafficPolicy:
    connectionPool:
      http: {http2MaxRequests: 2}
`,
    ].join(''),
  });
});

after(async () => {
  for (const release of held.splice(0)) release();
  await mesh.close();
  await backend.close();
});

test('http2MaxRequests: the request over the limit gets 503 UO with the overflow body, then traffic resumes', async () => {
  const inFlight: Array<Promise<Response>> = [request(vip(1), 80, { path: '/hold' }), request(vip(1), 80, { path: '/hold' })];
  await waitFor(() => held.length === 2);
  const hitsBefore = backend.hits();
  const over = await request(vip(1), 80, { path: '/over' });
  assert.equal(over.status, 503);
  assert.equal(over.body, 'upstream connect error or disconnect/reset before headers. reset reason: overflow');
  assert.equal(backend.hits(), hitsBefore, 'the refused request never reached the backend');
  const record = mesh.records.find((r) => r.status === 503);
  assert.equal(record?.flag, 'UO');
  assert.equal(record?.details, 'upstream_reset_before_response_started{overflow}');

  // A Service without the rule is not limited by the other cluster's breaker.
  assert.equal((await request(vip(2), 80, { path: '/free' })).status, 200);

  for (const release of held.splice(0)) release();
  for (const r of await Promise.all(inFlight)) assert.equal(r.status, 200);
  // Slots are released when the exchanges end: the limit applies afresh.
  for (let i = 0; i < 3; i++) assert.equal((await request(vip(1), 80, { path: '/after' })).status, 200);
});

test('/config_dump shows the circuit breaker on the limited cluster only', async () => {
  const [host, port] = mesh.admin.split(':');
  const dump = JSON.parse((await request(host ?? '127.0.0.1', Number(port), { path: '/config_dump' })).body) as { clusters: Array<{ id: string; circuitBreakers?: unknown }> };
  const of = (name: string): unknown => dump.clusters.find((c) => c.id.endsWith(`|${name}.default.svc.cluster.local`))?.circuitBreakers;
  assert.deepEqual(of('limited'), { maxRequests: 2 });
  assert.equal(of('open'), undefined);
});
