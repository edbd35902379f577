// End to end: WasmPlugin resources with real proxy-wasm modules (the AssemblyScript fixtures) loaded over
// file:// and http:// (a real server on loopback): pluginConfig delivered as JSON, sha256 verification,
// unreachable urls under each failStrategy, modules the host rejects, config reloads, imagePullPolicy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, type EchoReply, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { asPlugin, sha256, wat, writeModule } from '../fixtures/wasm/build.js';
import { startModuleServer, startWasmMesh, type WasmMesh, wasmPluginYaml } from './wasm-plugin-resource-mesh.js';

const vip = vipRange();
const SVC = { file: vip(1), http: vip(2), badSha: vip(3), openDown: vip(4), closedDown: vip(5), rejected: vip(6), always: vip(7), authn: vip(8), stats: vip(9) };

let backend: Backend;
let mesh: WasmMesh;
let modules: Awaited<ReturnType<typeof startModuleServer>>;
let addHeader: Uint8Array;
let downUrl: string;
let filePlugin: string;
let rejectedPlugin: string;
let denyPlugin: string;

/** A deny plugin in the AUTHN phase next to JWT authn, and one in the STATS phase next to RBAC. */
function orderingYaml(): string {
  return [
    wasmPluginYaml('deny-authn', 'svc-authn', `  url: file://${denyPlugin}\n  pluginName: deny\n  phase: AUTHN\n`),
    wasmPluginYaml('deny-stats', 'svc-stats', `  url: file://${denyPlugin}\n  pluginName: deny\n  phase: STATS\n`),
    `---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: svc-authn}]
  jwtRules: [{issuer: https://issuer.example.com, jwks: '{"keys":[]}'}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get-only, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: svc-stats}]
  action: ALLOW
  rules: [{to: [{operation: {methods: [GET]}}]}]
`,
  ].join('');
}

function plugins(config: { fileGreeting: string; httpGreeting: string; alwaysGreeting: string }): string {
  const good = sha256(addHeader);
  return [
    wasmPluginYaml('file-plugin', 'svc-file', `  url: file://${filePlugin}\n  pluginConfig: {greeting: ${config.fileGreeting}}\n`),
    wasmPluginYaml('http-plugin', 'svc-http', `  url: ${modules.base}/add-header.wasm\n  sha256: ${good}\n  imagePullPolicy: IfNotPresent\n  pluginConfig: {greeting: ${config.httpGreeting}}\n`),
    wasmPluginYaml('bad-sha', 'svc-bad-sha', `  url: ${modules.base}/add-header.wasm\n  sha256: "${'0'.repeat(64)}"\n`),
    wasmPluginYaml('open-down', 'svc-open-down', `  url: ${downUrl}\n  failStrategy: FAIL_OPEN\n`),
    wasmPluginYaml('closed-down', 'svc-closed-down', `  url: ${downUrl}\n  failStrategy: FAIL_CLOSE\n`),
    wasmPluginYaml('rejected', 'svc-rejected', `  url: file://${rejectedPlugin}\n`),
    wasmPluginYaml('always', 'svc-always', `  url: ${modules.base}/always.wasm\n  sha256: ${good}\n  imagePullPolicy: Always\n  pluginConfig: {greeting: ${config.alwaysGreeting}}\n`),
  ].join('');
}

before(async () => {
  backend = await startBackend('echo');
  addHeader = await asPlugin('add-header');
  modules = await startModuleServer(new Map([['/add-header.wasm', addHeader], ['/always.wasm', addHeader]]));
  downUrl = `http://127.0.0.1:${await unusedPort()}/plugin.wasm`;
  const ep = [`127.0.0.1:${backend.port}`];
  const services = [
    meshPreamble(),
    serviceYaml({ name: 'svc-file', vip: SVC.file, endpoints: ep }),
    serviceYaml({ name: 'svc-http', vip: SVC.http, endpoints: ep }),
    serviceYaml({ name: 'svc-bad-sha', vip: SVC.badSha, endpoints: ep }),
    serviceYaml({ name: 'svc-open-down', vip: SVC.openDown, endpoints: ep }),
    serviceYaml({ name: 'svc-closed-down', vip: SVC.closedDown, endpoints: ep }),
    serviceYaml({ name: 'svc-rejected', vip: SVC.rejected, endpoints: ep }),
    serviceYaml({ name: 'svc-always', vip: SVC.always, endpoints: ep }),
    serviceYaml({ name: 'svc-authn', vip: SVC.authn, endpoints: ep }),
    serviceYaml({ name: 'svc-stats', vip: SVC.stats, endpoints: ep }),
  ].join('\n');
  const scratch = await import('node:fs/promises').then((fs) => fs.mkdtemp(`${(process.env['TMPDIR'] ?? '/tmp')}/wasm-modules-`));
  filePlugin = await writeModule(scratch, 'add-header', addHeader);
  denyPlugin = await writeModule(scratch, 'deny', await asPlugin('deny'));
  // Links against a host function Envoy does not have: the host refuses it, naming the import.
  rejectedPlugin = await writeModule(scratch, 'rejected', await wat(`(module (import "env" "proxy_teleport" (func)) (memory (export "memory") 1)
    (func (export "proxy_abi_version_0_2_1")) (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 0)))`));
  mesh = await startWasmMesh({ 'mesh.yaml': services, 'plugins.yaml': plugins({ fileGreeting: 'hello', httpGreeting: 'hi', alwaysGreeting: 'one' }), 'ordering.yaml': orderingYaml() });
});

after(async () => {
  await mesh?.close();
  await modules?.close();
  await backend?.close();
});

async function get(address: string): Promise<{ status: number; request: string | undefined; response: string | undefined; body: string }> {
  const res = await request(address, 80, { path: '/' });
  const echoed = res.status === 200 ? (JSON.parse(res.body) as EchoReply).headers['x-wasm-request'] : undefined;
  return { status: res.status, request: typeof echoed === 'string' ? echoed : undefined, response: res.headers['x-wasm-response'] as string | undefined, body: res.body };
}

const runs = [
  { name: 'file:// module: pluginConfig reaches the plugin as JSON', service: 'default/svc-file', plugin: 'default/file-plugin', address: () => SVC.file, header: '{"greeting":"hello"}' },
  { name: 'http:// module verified by sha256', service: 'default/svc-http', plugin: 'default/http-plugin', address: () => SVC.http, header: '{"greeting":"hi"}' },
] as const;

for (const c of runs) {
  test(`WasmPlugin ${c.name}`, async () => {
    const entry = await mesh.settled(c.service, 80, c.plugin);
    assert.equal(entry.module.state, 'ready', JSON.stringify(entry));
    assert.equal(entry.module.state === 'ready' ? entry.module.sha256 : '', sha256(addHeader));
    const r = await get(c.address());
    assert.equal(r.status, 200);
    assert.equal(r.request, c.header);
    assert.equal(r.response, 'hit');
  });
}

const failures = [
  { name: 'wrong sha256, FAIL_CLOSE: 503 wasm_fail_stream, both digests named', service: 'default/svc-bad-sha', plugin: 'default/bad-sha', address: () => SVC.badSha, status: 503,
    diagnostic: () => new RegExp(`wasm-module-unavailable: .*has checksum ${sha256(addHeader)}, which does not match: ${'0'.repeat(64)}`) },
  { name: 'unreachable url, FAIL_OPEN: the plugin is skipped', service: 'default/svc-open-down', plugin: 'default/open-down', address: () => SVC.openDown, status: 200,
    diagnostic: () => /wasm-module-unavailable: .*is unreachable: .*ECONNREFUSED.*FAIL_OPEN: the plugin is skipped/ },
  { name: 'unreachable url, FAIL_CLOSE: 503', service: 'default/svc-closed-down', plugin: 'default/closed-down', address: () => SVC.closedDown, status: 503,
    diagnostic: () => /wasm-module-unavailable: .*is unreachable/ },
  { name: 'module importing an unknown host function, FAIL_CLOSE: 503', service: 'default/svc-rejected', plugin: 'default/rejected', address: () => SVC.rejected, status: 503,
    diagnostic: () => /wasm-module-invalid: .*env\.proxy_teleport/ },
] as const;

for (const c of failures) {
  test(`WasmPlugin ${c.name}`, async () => {
    const entry = await mesh.settled(c.service, 80, c.plugin);
    assert.equal(entry.module.state, 'failed');
    assert.ok(mesh.diagnostics(c.plugin).some((d) => c.diagnostic().test(d)), mesh.diagnostics(c.plugin).join('\n'));
    const r = await get(c.address());
    assert.equal(r.status, c.status);
    if (c.status === 503) {
      assert.equal(r.body, '');
      assert.equal(mesh.details.at(-1), 'wasm_fail_stream');
    } else assert.equal(r.response, undefined);
  });
}

test('WasmPlugin config change: the plugin reloads with the new pluginConfig; Always re-pulls, IfNotPresent does not', async () => {
  await mesh.settled('default/svc-always', 80, 'default/always');
  await mesh.settled('default/svc-http', 80, 'default/http-plugin');
  const alwaysBefore = modules.hits.get('/always.wasm') ?? 0;
  const httpBefore = modules.hits.get('/add-header.wasm') ?? 0;
  await mesh.write('plugins.yaml', plugins({ fileGreeting: 'bonjour', httpGreeting: 'salut', alwaysGreeting: 'two' }));
  assert.equal((await get(SVC.file)).request, '{"greeting":"bonjour"}');
  // The re-pull runs after the reload; the previous module serves meanwhile, then the new config applies.
  const deadline = Date.now() + 20_000;
  while ((modules.hits.get('/always.wasm') ?? 0) === alwaysBefore) {
    assert.ok(Date.now() < deadline, 'the Always module was not pulled again');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal((await get(SVC.always)).request, '{"greeting":"two"}');
  assert.equal((await get(SVC.http)).request, '{"greeting":"salut"}');
  // The bad-sha plugin shares this url with a different pin: only it may fetch /add-header.wasm again.
  const refetchedForHttpPlugin = (modules.hits.get('/add-header.wasm') ?? 0) - httpBefore;
  assert.ok(refetchedForHttpPlugin <= 1, `IfNotPresent module fetched ${refetchedForHttpPlugin} times`);
});

const ordering = [
  { name: 'an AUTHN plugin runs before JWT authn: it denies first', address: () => SVC.authn, method: 'GET', headers: { 'x-deny': 'yes', authorization: 'Bearer not.a.jwt' }, status: 403, body: 'denied: yes\n' },
  { name: 'without the plugin denying, JWT authn rejects the bad token', address: () => SVC.authn, method: 'GET', headers: { authorization: 'Bearer not.a.jwt' }, status: 401, body: undefined },
  { name: 'a STATS plugin runs after RBAC: RBAC denies first', address: () => SVC.stats, method: 'POST', headers: { 'x-deny': 'yes' }, status: 403, body: 'RBAC: access denied' },
  { name: 'a request RBAC allows reaches the STATS plugin', address: () => SVC.stats, method: 'GET', headers: { 'x-deny': 'yes' }, status: 403, body: 'denied: yes\n' },
] as const;

for (const c of ordering) {
  test(`WasmPlugin phases with real plugins: ${c.name}`, async () => {
    await mesh.settled(c.address() === SVC.authn ? 'default/svc-authn' : 'default/svc-stats', 80, c.address() === SVC.authn ? 'default/deny-authn' : 'default/deny-stats');
    const res = await request(c.address(), 80, { method: c.method, headers: c.headers });
    assert.equal(res.status, c.status, res.body);
    if (c.body !== undefined) assert.equal(res.body, c.body);
  });
}
