// End to end: loadBalancer.warmupDurationSecs (slow start). An endpoint that joins a ROUND_ROBIN cluster later
// starts at a small share of traffic (Envoy's 10% minimum weight) instead of its full round-robin turn; the same
// Service without the setting splits evenly at once. Endpoints present from the start are not warming.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request, whoAnswers } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
const backends: Backend[] = [];

const config = (endpoints: string[]): string => [
  meshPreamble(),
  serviceYaml({ name: 'warm', vip: vip(1), endpoints }),
  serviceYaml({ name: 'cold', vip: vip(2), endpoints }),
  `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: warm, namespace: default}
spec:
  host: warm
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 600s}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cold, namespace: default}
spec:
  host: cold
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
`,
].join('');

before(async () => {
  const first = await startBackend('ep-1');
  backends.push(first, await startBackend('ep-2', undefined, '127.0.0.2', first.port));
  mesh = await startMesh({ 'mesh.yaml': config([`127.0.0.1:${first.port}`]) });
});

after(async () => {
  await mesh.close();
  for (const b of backends) await b.close();
});

async function shareOfNew(n: number, requests: number): Promise<number> {
  let count = 0;
  for (let i = 0; i < requests; i++) if ((await whoAnswers(vip(n), 80)) === 'ep-2') count++;
  return count;
}

test('an endpoint joining a slow-start cluster gets a small, non-zero share; without warmup it gets half at once', async () => {
  const port = backends[0]?.port ?? 0;
  await mesh.write('mesh.yaml', config([`127.0.0.1:${port}`, `127.0.0.2:${port}`]));
  const warm = await shareOfNew(1, 200);
  const cold = await shareOfNew(2, 200);
  assert.equal(cold, 100, 'ROUND_ROBIN alone alternates');
  // Expected about 10% / (1 + 10%) of 200 ≈ 18; bounds far from both 0 and the even split.
  assert.ok(warm > 0 && warm < 60, `the warming endpoint got ${warm} of 200`);
});

test('/config_dump shows the slow-start window', async () => {
  const [host, port] = mesh.admin.split(':');
  const dump = JSON.parse((await request(host ?? '127.0.0.1', Number(port), { path: '/config_dump' })).body) as { clusters: Array<{ id: string; lbPolicy?: unknown }> };
  const lb = dump.clusters.find((c) => c.id.endsWith('|warm.default.svc.cluster.local'))?.lbPolicy;
  assert.deepEqual(lb, { policy: 'ROUND_ROBIN', slowStart: { windowMs: 600_000, minWeight: 0.1, aggression: 1 } });
});
