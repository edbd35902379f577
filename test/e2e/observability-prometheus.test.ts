// End to end with a real Prometheus server (Debian's `prometheus`, installed by .ci/run): it scrapes the
// waypoint's metrics address on loopback (negotiating OpenMetrics, as Prometheus does by default), and its
// query API returns the Istio series for traffic the test sent.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Backend, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { type ObservedMesh, startObservedMesh } from './observability-mesh.js';

const vip = vipRange();
let mesh: ObservedMesh;
let web: Backend;
let prometheus: ChildProcess;
let prometheusUrl = '';
let dir = '';
let prometheusLog = '';

before(async () => {
  web = await startBackend('web');
  mesh = await startObservedMesh({
    'mesh.yaml': meshPreamble() + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] }) + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ group: "", kind: Service, name: web }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /api } }], backendRefs: [{ name: web, port: 80 }] }]
`,
  }, undefined);
  dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  await writeFile(config, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: waypoint
    metrics_path: /stats/prometheus
    static_configs:
      - targets: ['${mesh.metrics}']
`);
  const port = await unusedPort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn('prometheus', [
    `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  prometheus.stderr?.on('data', (c: Buffer) => (prometheusLog = (prometheusLog + c.toString()).slice(-4000)));
  prometheus.once('error', (err) => (prometheusLog += `\nspawn failed: ${err.message} (is the prometheus package installed? .ci/run installs it)`));
  await until(async () => (await fetch(`${prometheusUrl}/-/ready`).then((r) => r.status, () => 0)) === 200, 'Prometheus ready');
});

after(async () => {
  if (prometheus.exitCode === null && prometheus.signalCode === null) {
    const exited = new Promise((r) => prometheus.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await mesh.close();
  await web.close();
  await rm(dir, { recursive: true, force: true });
});

interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

async function query(promql: string): Promise<VectorSample[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { resultType: string; result: VectorSample[] } };
  assert.equal(body.status, 'success');
  return body.data.result;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (prometheus.exitCode !== null) throw new Error(`prometheus exited (${prometheus.exitCode}) while waiting for ${what}:\n${prometheusLog}`);
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}\n${prometheusLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('Prometheus scrapes the waypoint and its query API returns the expected Istio series', async () => {
  for (let i = 0; i < 7; i++) assert.equal((await request(vip(1), 80, { path: `/api/${i}` })).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await request(vip(1), 80, { path: '/other' })).status, 404);

  const ok = 'sum(istio_requests_total{reporter="waypoint",destination_service="web.default.svc.cluster.local",response_code="200",response_flags="-"})';
  await until(async () => (await query(ok))[0]?.value[1] === '7', 'the 7 successful requests in Prometheus');
  const nr = await query('sum(istio_requests_total{reporter="waypoint",destination_service_name="web",response_code="404",response_flags="NR"})');
  assert.equal(nr[0]?.value[1], '3');

  const up = await query('up{job="waypoint"}');
  assert.equal(up[0]?.value[1], '1');

  // One series carries the whole Istio label set (plus Prometheus' own job and instance). Prometheus stores an
  // empty label as absent, so HTTP series have no grpc_response_status there (as with Istio's own proxies).
  const [series] = await query('istio_requests_total{response_code="200"}');
  assert.ok(series !== undefined);
  assert.deepEqual(Object.keys(series.metric).filter((k) => k !== 'job' && k !== 'instance' && k !== '__name__').sort(), [
    'connection_security_policy', 'destination_app', 'destination_canonical_revision', 'destination_canonical_service', 'destination_cluster',
    'destination_principal', 'destination_service', 'destination_service_name', 'destination_service_namespace', 'destination_version',
    'destination_workload', 'destination_workload_namespace', 'reporter', 'request_protocol', 'response_code',
    'response_flags', 'source_app', 'source_canonical_revision', 'source_canonical_service', 'source_cluster', 'source_principal',
    'source_version', 'source_workload', 'source_workload_namespace',
  ]);
  assert.equal(series.metric['reporter'], 'waypoint');

  // Histograms arrive whole: the +Inf bucket equals the count, and a quantile can be computed.
  const inf = await query('sum(istio_request_duration_milliseconds_bucket{destination_service_name="web",le="+Inf"})');
  const count = await query('sum(istio_request_duration_milliseconds_count{destination_service_name="web"})');
  assert.equal(inf[0]?.value[1], '10');
  assert.equal(count[0]?.value[1], '10');
  const p50 = await query('histogram_quantile(0.5, sum by (le) (istio_request_duration_milliseconds_bucket{destination_service_name="web"}))');
  assert.ok(Number(p50[0]?.value[1]) > 0);
  const bytes = await query('sum(istio_response_bytes_sum{destination_service_name="web",response_code="200"})');
  assert.ok(Number(bytes[0]?.value[1]) > 7 * 100);
  const health = await query('waypoint_downstream_requests_total');
  assert.equal(health[0]?.value[1], '10');
});

test('every query of examples/grafana-dashboard.json is valid PromQL, and the traffic panels have data', async () => {
  const file = new URL('../../../examples/grafana-dashboard.json', import.meta.url);
  const dashboard = JSON.parse(await readFile(file, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 20);
  for (const { title, expr } of exprs) {
    const promql = expr.replaceAll('$__rate_interval', '1m').replaceAll('$namespace', '.*').replaceAll('$service', '.*').replaceAll('$instance', '.*');
    const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string };
    assert.equal(body.status, 'success', `${title}: ${expr}: ${body.error ?? ''}`);
  }
  const traffic = exprs.find((e) => e.title === 'Requests by destination service');
  assert.ok(traffic !== undefined);
  await until(async () => (await query(traffic.expr.replaceAll('$__rate_interval', '1m').replaceAll('$namespace', '.*').replaceAll('$service', '.*'))).length > 0, 'request rate data');
  const elu = await query('waypoint_event_loop_utilization');
  assert.ok(elu.length === 1 && Number(elu[0]?.value[1]) >= 0 && Number(elu[0]?.value[1]) <= 1);
});
