// End to end through configuration: a WasmPlugin resource (file:// url) targeting a Service runs the
// AssemblyScript add-header plugin with its pluginConfig as JSON; editing pluginConfig restarts the plugin
// with the new configuration, deleting the resource removes it from the path.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request, type Response } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';
import { asPlugin, writeModule } from '../fixtures/wasm/build.js';

const vip = vipRange();
let mesh: TestMesh;
let backend: Backend;
let dir: string;
let moduleFile: string;

const plugin = (config: string): string => `apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: add-header
  namespace: default
spec:
  targetRefs:
    - group: ""
      kind: Service
      name: front
  url: file://${moduleFile}
  pluginConfig: ${config}
  failStrategy: FAIL_CLOSE
`;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wasm-host-yaml-'));
  moduleFile = await writeModule(dir, 'add-header', await asPlugin('add-header'));
  backend = await startBackend('front');
  mesh = await startMesh({
    'mesh.yaml': [meshPreamble(), serviceYaml({ name: 'front', vip: vip(1), endpoints: [`127.0.0.1:${backend.port}`] })].join('\n'),
    'plugin.yaml': plugin('{greeting: hello}'),
  });
});
after(async () => {
  await mesh.close();
  await backend.close();
  await rm(dir, { recursive: true, force: true });
});

/** Requests until `check` holds (the module is fetched and applied asynchronously) or 10 s pass. */
async function until(check: (r: Response) => boolean): Promise<Response> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await request(vip(1), 80, { path: '/' });
    if (check(r) || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sent = (r: Response): Record<string, string | undefined> => (JSON.parse(r.body) as { headers: Record<string, string | undefined> }).headers;

for (const c of [
  { name: 'the plugin runs with pluginConfig delivered as JSON', yaml: '{greeting: hello}', expected: '{"greeting":"hello"}' },
  { name: 'a pluginConfig change restarts the plugin with the new configuration', yaml: '{greeting: changed, n: 2}', expected: '{"greeting":"changed","n":2}' },
]) {
  test(c.name, async () => {
    await mesh.write('plugin.yaml', plugin(c.yaml));
    const r = await until((res) => res.status === 200 && sent(res)['x-wasm-request'] === c.expected);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-wasm-response'], 'hit');
    assert.equal(sent(r)['x-wasm-request'], c.expected);
  });
}

test('deleting the WasmPlugin takes the plugin off the path', async () => {
  await mesh.write('plugin.yaml', '');
  const r = await until((res) => res.headers['x-wasm-response'] === undefined);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-wasm-response'], undefined);
  assert.equal(sent(r)['x-wasm-request'], undefined);
});
