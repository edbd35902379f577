// End to end: DestinationRule outlierDetection ejects an endpoint after consecutive 5xx responses (no more
// traffic while ejected) and lets it back after baseEjectionTime; the policy and the live ejection state show in
// /config_dump, and Envoy's outlier_detection stats in /stats/prometheus.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, echo, startBackend } from '../harness/backends.js';
import { request, whoAnswers } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
let good: Backend;
let bad: Backend;
let failing = true;

before(async () => {
  good = await startBackend('good');
  bad = await startBackend('bad', (req, res, name) => {
    if (!failing) return echo(req, res, name);
    req.resume();
    res.writeHead(500, { 'x-backend': name }).end('broken');
  }, '127.0.0.2', good.port);
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'flaky', vip: vip(1), endpoints: [`127.0.0.1:${good.port}`, `127.0.0.2:${good.port}`] }),
      `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: flaky, namespace: default}
spec:
  host: flaky
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection:
      consecutive5xxErrors: 2
      interval: 1s
      baseEjectionTime: 3s
      maxEjectionPercent: 100
`,
    ].join(''),
  });
});

after(async () => {
  await mesh.close();
  await good.close();
  await bad.close();
});

test('consecutive 5xx eject the endpoint; it gets no traffic until baseEjectionTime passes, then returns', async () => {
  // Round robin alternates: within 4 requests the failing endpoint answers 500 twice and is ejected.
  for (let i = 0; i < 4; i++) await request(vip(1), 80);
  assert.equal(bad.hits(), 2);
  const hitsAtEjection = bad.hits();
  for (let i = 0; i < 10; i++) assert.equal(await whoAnswers(vip(1), 80), 'good', 'an ejected endpoint gets no requests');
  assert.equal(bad.hits(), hitsAtEjection);

  // Live ejection state: /config_dump endpoint health and Envoy's outlier_detection stats.
  const [host, port] = mesh.admin.split(':');
  const dump = JSON.parse((await request(host ?? '127.0.0.1', Number(port), { path: '/config_dump' })).body) as { endpointHealth: Array<{ cluster: string; endpoints: Array<{ address: string; health: string; ejectedUntil?: string; timesEjected: number }> }> };
  const health = dump.endpointHealth.find((c) => c.cluster.endsWith('|flaky.default.svc.cluster.local'));
  const ejected = health?.endpoints.find((e) => e.address === `127.0.0.2:${good.port}`);
  assert.equal(ejected?.health, 'ejected');
  assert.equal(ejected?.timesEjected, 1);
  assert.ok(Date.parse(ejected?.ejectedUntil ?? '') > Date.now() - 5000, `ejected until ${ejected?.ejectedUntil}`);
  assert.equal(health?.endpoints.find((e) => e.address === `127.0.0.1:${good.port}`)?.health, 'healthy');
  const stats = (await request(host ?? '127.0.0.1', Number(port), { path: '/stats/prometheus' })).body;
  const label = `cluster_name="inbound-vip|80|http|flaky.default.svc.cluster.local"`;
  assert.ok(stats.includes(`envoy_cluster_outlier_detection_ejections_enforced_total{${label}} 1\n`), stats.split('\n').filter((l) => l.includes('outlier')).join('\n'));
  assert.ok(stats.includes(`envoy_cluster_outlier_detection_ejections_enforced_consecutive_5xx_total{${label}} 1\n`));
  assert.ok(stats.includes(`envoy_cluster_outlier_detection_ejections_active{${label}} 1\n`));

  failing = false;
  // Sanity bound only: the endpoint must come back within a generous window after its 3s ejection.
  const deadline = Date.now() + 15_000;
  let back = false;
  while (!back && Date.now() < deadline) {
    back = (await whoAnswers(vip(1), 80)) === 'bad';
    if (!back) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(back, 'the endpoint returned after its ejection time');
});

test('/config_dump shows the compiled outlier detection policy', async () => {
  const [host, port] = mesh.admin.split(':');
  const dump = JSON.parse((await request(host ?? '127.0.0.1', Number(port), { path: '/config_dump' })).body) as { clusters: Array<{ id: string; outlierDetection?: unknown }> };
  const c = dump.clusters.find((x) => x.id.endsWith('|flaky.default.svc.cluster.local'));
  assert.deepEqual(c?.outlierDetection, { consecutive5xx: 2, consecutiveGateway: 0, intervalMs: 1000, baseEjectionMs: 3000, maxEjectionPercent: 100, minHealthPercent: 0 });
});
