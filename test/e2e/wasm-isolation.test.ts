// End to end: plugins that misbehave (trap, loop forever, pass bad pointers, grow memory without bound)
// never take the waypoint down; the failStrategy applies, the VM is replaced and the next request is served.
// Modules that cannot run (no or unknown ABI version, unknown imports, rejected configuration) are refused
// with a reason. Hand-written WAT assembled with wabt.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from '../harness/client.js';
import { wat, watFile } from '../fixtures/wasm/build.js';
import { startWasmMesh, type WasmMesh } from './wasm-harness.js';

let m: WasmMesh;
const modules: Record<string, Uint8Array> = {};

before(async () => {
  m = await startWasmMesh();
  for (const name of ['trap', 'loop', 'bad-pointers', 'grow', 'abi-0-1-0', 'reject-config', 'host-calls']) modules[name] = await watFile(name);
});
after(() => m.close());

const bytes = (name: string): Uint8Array => modules[name] ?? new Uint8Array(0);
const get = (headers: Record<string, string> = {}) => request(m.vip, 80, { path: '/', headers });
const echoed = (body: string): Record<string, string> => (JSON.parse(body) as { headers: Record<string, string> }).headers;

for (const c of [
  { name: 'a trap under FAIL_CLOSE answers 503 wasm_fail_stream, then a new VM serves', strategy: 'FAIL_CLOSE' as const, status: 503 },
  { name: 'a trap under FAIL_OPEN skips the plugin for that request, then a new VM serves', strategy: 'FAIL_OPEN' as const, status: 200 },
]) {
  test(c.name, async () => {
    const [r] = m.install([{ name: `trap-${c.strategy}`, bytes: bytes('trap'), failStrategy: c.strategy }]);
    assert.equal(r?.ok, true);
    const generation = m.runtime.handle(`default/trap-${c.strategy}`)?.generation;
    const trapped = await get({ 'x-trap': '1' });
    assert.equal(trapped.status, c.status);
    if (c.status === 503) {
      assert.equal(trapped.body, '');
      assert.equal(m.mesh.records.at(-1)?.details, 'wasm_fail_stream');
    } else assert.equal(echoed(trapped.body)['x-wat'], undefined);
    const next = await get();
    assert.equal(next.status, 200);
    assert.equal(echoed(next.body)['x-wat'], 'ok');
    assert.equal(m.runtime.handle(`default/trap-${c.strategy}`)?.generation, (generation ?? 0) + 1, 'the failed VM was replaced');
  });
}

test('an infinite loop is stopped by the CPU budget and the next request is served', async () => {
  m.install([{ name: 'loop', bytes: bytes('loop') }]);
  const started = performance.now();
  const looped = await get({ 'x-loop': '1' });
  const elapsed = performance.now() - started;
  assert.equal(looped.status, 503);
  assert.equal(m.mesh.records.at(-1)?.details, 'wasm_fail_stream');
  // Generous sanity bound: the budget stops it in well under a second even on a loaded machine.
  assert.ok(elapsed < 10_000, `loop stopped after ${elapsed} ms`);
  const next = await get();
  assert.equal(next.status, 200);
  assert.equal(echoed(next.body)['x-wat'], 'ok');
});

test('pointers outside guest memory make the host call fail with InvalidMemoryAccess, not the process', async () => {
  m.install([{ name: 'bad-pointers', bytes: bytes('bad-pointers') }]);
  const res = await get();
  assert.equal(res.status, 200);
  const h = echoed(res.body);
  assert.equal(h['x-log-status'], '6');
  assert.equal(h['x-add-status'], '6');
  assert.equal(h['x-pairs-status'], '6');
});

test('memory growth stops at the cap (memory.grow returns -1); a plugin that then traps is replaced', async () => {
  m.install([{ name: 'grow', bytes: bytes('grow') }]);
  const res = await get();
  assert.equal(res.status, 200);
  assert.equal(echoed(res.body)['x-pages'], '1024');
  const trapped = await get({ 'x-trap-after': '1' });
  assert.equal(trapped.status, 503);
  assert.equal((await get()).status, 200);
});

test('an ABI 0.1.0 module runs: two-argument callbacks, proxy_get_configuration, malloc', async () => {
  const [r] = m.install([{ name: 'abi010', bytes: bytes('abi-0-1-0'), configuration: 'legacy-config' }]);
  assert.equal(r?.ok, true);
  const res = await get();
  assert.equal(res.status, 200);
  assert.equal(echoed(res.body)['x-config'], 'legacy-config');
});

test('host calls answer as the ABI says: properties set and read back, log level, time, bad ids, absent values', async () => {
  m.install([{ name: 'host-calls', bytes: bytes('host-calls') }]);
  const res = await get();
  assert.equal(res.status, 200);
  const h = echoed(res.body);
  assert.deepEqual(
    { set: h['x-set-status'], prop: h['x-prop'], level: h['x-log-level'], time: h['x-time'], effective: h['x-effective'], readOnly: h['x-prop-ro'], missing: h['x-prop-missing'], absent: h['x-absent'] },
    // Ok, the value, Error (the test logger's level), a time, BadArgument, BadArgument, NotFound, NotFound.
    { set: '0', prop: 'v1', level: '4', time: '1', effective: '2', readOnly: '2', missing: '1', absent: '1' },
  );
});

const skeleton = (exports: string, imports = ''): string => `(module ${imports}
  (memory (export "memory") 1)
  ${exports}
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_context_create") (param i32 i32)))`;

for (const c of [
  { name: 'no ABI version export', text: skeleton(''), reason: /exports no proxy-wasm ABI version/ },
  { name: 'an unknown ABI version', text: skeleton('(func (export "proxy_abi_version_0_3_0"))'), reason: /unsupported proxy-wasm ABI version \(proxy_abi_version_0_3_0\)/ },
  { name: 'an unknown host function', text: skeleton('(func (export "proxy_abi_version_0_2_1"))', '(import "env" "proxy_frobnicate" (func (param i32) (result i32)))'), reason: /imports unknown host functions: env\.proxy_frobnicate/ },
  { name: 'an unknown import module', text: skeleton('(func (export "proxy_abi_version_0_2_1"))', '(import "emscripten" "abort" (func))'), reason: /imports unknown host functions: emscripten\.abort/ },
  { name: 'bytes that are not WebAssembly', bytes: new Uint8Array([1, 2, 3, 4]), reason: /module does not compile/ },
]) {
  for (const strategy of ['FAIL_CLOSE', 'FAIL_OPEN'] as const) {
    test(`refused with a reason: ${c.name} (${strategy})`, async () => {
      const moduleBytes = c.bytes ?? (await wat(c.text ?? ''));
      const [r] = m.install([{ name: `refused-${strategy}`, bytes: moduleBytes, failStrategy: strategy }]);
      assert.equal(r?.ok, false);
      assert.match(r?.ok === false ? r.reason : '', c.reason);
      const res = await get();
      assert.equal(res.status, strategy === 'FAIL_CLOSE' ? 503 : 200);
    });
  }
}

test('a plugin whose proxy_on_configure returns false is reported and fails closed', async () => {
  const [r] = m.install([{ name: 'reject', bytes: bytes('reject-config') }]);
  assert.equal(r?.ok, false);
  assert.match(r?.ok === false ? r.reason : '', /proxy_on_configure returned false/);
  assert.equal((await get()).status, 503);
});
