// End to end: config edits apply live through the file watcher without failing in-flight or
// continuous traffic; bad edits keep serving the previous version; diagnostics reach /config_dump.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request, whoAnswers } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh, waitFor } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
let v1: Backend;
let v2: Backend;
let slow: Backend;

const routeTo = (backend: string): string => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: front
  namespace: default
spec:
  parentRefs:
    - {group: "", kind: Service, name: front, port: 80}
  rules:
    - backendRefs:
        - {name: ${backend}, port: 80}
`;

before(async () => {
  v1 = await startBackend('v1');
  v2 = await startBackend('v2');
  slow = await startBackend('slow', (_req, res) => setTimeout(() => res.end('slow done'), 1500));
  mesh = await startMesh({
    'base.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'front', vip: vip(1), endpoints: [`127.0.0.1:${v1.port}`] }),
      serviceYaml({ name: 'v1', vip: vip(2), endpoints: [`127.0.0.1:${v1.port}`] }),
      serviceYaml({ name: 'v2', vip: vip(3), endpoints: [`127.0.0.1:${v2.port}`] }),
      serviceYaml({ name: 'slow', vip: vip(4), endpoints: [`127.0.0.1:${slow.port}`] }),
    ].join(''),
    'route.yaml': routeTo('v1'),
  }, { watch: true });
});

after(async () => {
  await mesh.close();
  for (const b of [v1, v2, slow]) await b.close();
});

async function until(backend: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while ((await whoAnswers(vip(1), 80)) !== backend) {
    if (Date.now() > deadline) throw new Error(`route never switched to ${backend}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('an edit to a watched file applies promptly, under continuous traffic with zero failures', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let failures = 0;
  let total = 0;
  let running = true;
  const seen = new Set<string>();
  const worker = async (): Promise<void> => {
    while (running) {
      const who = await whoAnswers(vip(1), 80, { agent }).catch((e: unknown) => `error ${String(e)}`);
      total++;
      if (who !== 'v1' && who !== 'v2') failures++;
      seen.add(who);
    }
  };
  const workers = [worker(), worker(), worker(), worker()];
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await mesh.write('route.yaml', routeTo('v2'));
  await until('v2');
  const applyMs = Date.now() - started;
  await mesh.write('route.yaml', routeTo('v1'));
  await until('v1');
  await new Promise((r) => setTimeout(r, 200));
  running = false;
  await Promise.all(workers);
  agent.destroy();
  assert.equal(failures, 0, `failures among ${total}: ${[...seen].join(', ')}`);
  assert.ok(total > 50, `only ${total} requests ran`);
  // A sanity bound, not a speed target: the watcher's debounce is far shorter, but a loaded CI machine is slow.
  assert.ok(applyMs < 3000, `edit took ${applyMs} ms to apply`);
});

test('an in-flight request keeps its snapshot across a swap', async () => {
  const pending = request(vip(4), 80);
  await new Promise((r) => setTimeout(r, 200));
  await mesh.write('route.yaml', routeTo('v2'));
  await until('v2');
  const res = await pending;
  assert.deepEqual([res.status, res.body], [200, 'slow done']);
});

test('an invalid edit keeps serving the previous version of that resource', async () => {
  await mesh.write('route.yaml', routeTo('v1'));
  await until('v1');
  const before = mesh.waypoint.store.current?.version ?? 0;
  await mesh.write('route.yaml', routeTo('v2').replace('backendRefs:', 'backendRefz:'));
  await waitFor(() => (mesh.waypoint.store.current?.version ?? 0) > before);
  assert.equal(await whoAnswers(vip(1), 80), 'v1');
  const dump = JSON.parse((await request(...adminAt(mesh.admin), { path: '/config_dump' })).body) as { diagnostics: Array<{ code: string; path?: string; line?: number; message: string }> };
  const unknown = dump.diagnostics.find((d) => d.code === 'unknown-field');
  assert.ok(unknown !== undefined, JSON.stringify(dump.diagnostics));
  assert.equal(unknown.path, 'spec.rules[0].backendRefz');
  assert.match(unknown.message, /"backendRefz"/);
  assert.ok(dump.diagnostics.some((d) => d.code === 'kept-previous'));
});

test('a file that no longer parses keeps its previous resources', async () => {
  await mesh.write('route.yaml', routeTo('v2'));
  await until('v2');
  const before = mesh.waypoint.store.current?.version ?? 0;
  await mesh.write('route.yaml', 'kind: HTTPRoute\n  bad: [indent\n');
  await waitFor(() => (mesh.waypoint.store.current?.version ?? 0) > before);
  assert.equal(await whoAnswers(vip(1), 80), 'v2');
  const dump = JSON.parse((await request(...adminAt(mesh.admin), { path: '/config_dump' })).body) as { diagnostics: Array<{ code: string; file?: string }> };
  assert.ok(dump.diagnostics.some((d) => d.code === 'yaml-syntax' && (d.file ?? '').endsWith('route.yaml')));
});

test('when nothing servable compiles the last good snapshot stays live', async () => {
  await mesh.write('route.yaml', routeTo('v1'));
  await until('v1');
  const version = mesh.waypoint.store.current?.version;
  // Without the waypoint Gateway nothing can be served: keep the last good snapshot.
  await mesh.write('base.yaml', serviceYaml({ name: 'front', vip: vip(1), endpoints: [`127.0.0.1:${v2.port}`] }));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(mesh.waypoint.store.current?.version, version);
  assert.equal(await whoAnswers(vip(1), 80), 'v1');
  const dump = JSON.parse((await request(...adminAt(mesh.admin), { path: '/config_dump' })).body) as { latestDiagnostics: Array<{ code: string }> };
  assert.ok(dump.latestDiagnostics.some((d) => d.code === 'no-waypoint'));
});

function adminAt(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}
