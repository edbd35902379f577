// Tests for the WasmPlugin compile stage with a stand-in module lookup and host: what the host is given
// (root id, JSON configuration, resolved env, failStrategy), and what a port gets for each module state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpFilter } from '../../filters/types.js';
import type { WasmModuleRequest } from '../../wasm/fetch/module-request.js';
import type { WasmFilterFactory, WasmFilterResult, WasmModuleState, WasmPluginSpec } from '../../wasm/wasm-plugin-spec.js';
import { parseConfigText } from '../source/yaml-documents.js';
import { compile } from './index.js';
import type { WasmCompileOptions } from './wasm-plugins.js';

const MESH = `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/use-waypoint: waypoint}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: shop}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {clusterIP: 127.31.0.1, ports: [{name: http, port: 9080}]}
`;

function plugin(name: string, extra: string): string {
  return `---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: ${name}, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: reviews}]
${extra}`;
}

class StubFilter implements HttpFilter {
  constructor(readonly name: string) {}
}

/** A host that records what it is asked for and answers per plugin key. */
function host(answer: (spec: WasmPluginSpec) => WasmFilterResult): WasmFilterFactory & { specs: WasmPluginSpec[] } {
  const specs: WasmPluginSpec[] = [];
  return { specs, filterFor: (spec) => { specs.push(spec); return answer(spec); } };
}

function run(yaml: string, states: (r: WasmModuleRequest) => WasmModuleState, factory: WasmFilterFactory | undefined, hostEnv: Record<string, string> = {}) {
  const parsed = parseConfigText(MESH + yaml, 'in.yaml', 0);
  const wasm: WasmCompileOptions = { modules: { state: states }, factory, hostEnv };
  const result = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1, wasm });
  assert.ok(result.ok);
  const port = result.snapshot.services.get('shop/reviews')?.ports[0];
  assert.ok(port !== undefined);
  return { chain: port.filters.map((f) => f.name), diagnostics: result.diagnostics, snapshot: result.snapshot };
}

const READY: WasmModuleState = { kind: 'ready', sha256: 'f'.repeat(64), bytes: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) };

test('a ready module: the host gets root id, JSON configuration, resolved env, phase and priority', () => {
  const h = host((spec) => ({ ok: true, filter: new StubFilter(`host:${spec.key}`) }));
  const r = run(plugin('p', `  url: file:///m.wasm
  pluginName: add_header
  pluginConfig: {header: x-a, list: [1, "two"]}
  phase: AUTHZ
  priority: 7
  failStrategy: FAIL_OPEN
  vmConfig: {env: [{name: INLINE_A, value: "1"}, {name: FROM_HOST, valueFrom: HOST}, {name: UNSET_HOST, valueFrom: HOST}]}
`), () => READY, h, { FROM_HOST: 'host-value' });
  assert.deepEqual(r.chain, ['host:shop/p']);
  const spec = h.specs[0];
  assert.ok(spec !== undefined);
  assert.equal(spec.rootId, 'add_header');
  assert.deepEqual(JSON.parse(spec.configuration), { header: 'x-a', list: [1, 'two'] });
  assert.deepEqual([...spec.vmEnv], [['INLINE_A', '1'], ['FROM_HOST', 'host-value']]);
  assert.equal(spec.phase, 'AUTHZ');
  assert.equal(spec.priority, 7);
  assert.equal(spec.failStrategy, 'FAIL_OPEN');
  assert.equal(spec.module, READY);
  assert.ok(r.diagnostics.some((d) => d.code === 'host-env-missing' && d.path === 'spec.vmConfig.env[2].name'));
  assert.deepEqual(r.snapshot.wasm?.ports.get('shop/reviews:9080')?.map((p) => [p.plugin, p.effect, p.module.state]), [['shop/p', 'runs', 'ready']]);
});

interface StateCase {
  readonly name: string;
  readonly failStrategy: 'FAIL_CLOSE' | 'FAIL_OPEN';
  readonly state: WasmModuleState;
  readonly hostOk: boolean;
  readonly chain: ReadonlyArray<string>;
  readonly diagnostic: string | undefined;
  readonly effect: string;
}

const cases: ReadonlyArray<StateCase> = [
  { name: 'pending, FAIL_CLOSE: 503 filter', failStrategy: 'FAIL_CLOSE', state: { kind: 'pending' }, hostOk: true, chain: ['wasm:shop/p (fail-closed)'], diagnostic: 'wasm-module-pending', effect: 'fail-closed' },
  { name: 'pending, FAIL_OPEN: skipped', failStrategy: 'FAIL_OPEN', state: { kind: 'pending' }, hostOk: true, chain: [], diagnostic: 'wasm-module-pending', effect: 'skipped' },
  { name: 'fetch failed, FAIL_CLOSE: 503 filter and the cause', failStrategy: 'FAIL_CLOSE', state: { kind: 'failed', reason: 'http://x/m.wasm answered HTTP 404' }, hostOk: true, chain: ['wasm:shop/p (fail-closed)'], diagnostic: 'wasm-module-unavailable', effect: 'fail-closed' },
  { name: 'fetch failed, FAIL_OPEN: skipped', failStrategy: 'FAIL_OPEN', state: { kind: 'failed', reason: 'unreachable' }, hostOk: true, chain: [], diagnostic: 'wasm-module-unavailable', effect: 'skipped' },
  { name: 'module rejected by the host, FAIL_CLOSE: the host filter', failStrategy: 'FAIL_CLOSE', state: READY, hostOk: false, chain: ['host-fail:shop/p'], diagnostic: 'wasm-module-invalid', effect: 'fail-closed' },
  { name: 'module rejected by the host, FAIL_OPEN: skipped', failStrategy: 'FAIL_OPEN', state: READY, hostOk: false, chain: [], diagnostic: 'wasm-module-invalid', effect: 'skipped' },
];

for (const c of cases) {
  test(`module state: ${c.name}`, () => {
    const h = host((spec) => (c.hostOk ? { ok: true, filter: new StubFilter(`host:${spec.key}`) } : { ok: false, reason: 'imports unknown host function env.nope', filter: new StubFilter(`host-fail:${spec.key}`) }));
    const r = run(plugin('p', `  url: http://x/m.wasm\n  failStrategy: ${c.failStrategy}\n`), () => c.state, h);
    assert.deepEqual(r.chain, c.chain);
    const d = r.diagnostics.find((x) => x.resource === 'WasmPlugin shop/p');
    assert.equal(d?.code, c.diagnostic);
    if (c.state.kind === 'failed') assert.match(d?.message ?? '', new RegExp(c.state.reason));
    if (!c.hostOk) assert.match(d?.message ?? '', /imports unknown host function env\.nope/);
    assert.equal(r.snapshot.wasm?.ports.get('shop/reviews:9080')?.[0]?.effect, c.effect);
  });
}

test('fail-closed filter answers 503 wasm_fail_stream with an empty body', () => {
  const r = run(plugin('p', '  url: http://x/m.wasm\n'), () => ({ kind: 'pending' }), undefined);
  const filter = r.snapshot.services.get('shop/reviews')?.ports[0]?.filters[0];
  const reply = filter?.onRequestHeaders?.(undefined as never);
  assert.deepEqual(reply && !(reply instanceof Promise) ? [reply.status, reply.body, reply.details] : undefined, [503, '', 'wasm_fail_stream']);
});

test('fetch keys: Always re-pulls on any change of the resource, IfNotPresent does not', () => {
  const keys = (yaml: string): string[] => {
    const seen: string[] = [];
    run(yaml, (r) => { seen.push(r.fetchKey); return READY; }, host(() => ({ ok: true, filter: new StubFilter('h') })));
    return seen;
  };
  const always = (config: string) => plugin('p', `  url: oci://r.example.com/f:1\n  imagePullPolicy: Always\n  pluginConfig: {v: ${config}}\n`);
  const ifNotPresent = (config: string) => plugin('p', `  url: oci://r.example.com/f:1\n  imagePullPolicy: IfNotPresent\n  pluginConfig: {v: ${config}}\n`);
  assert.notDeepEqual(keys(always('1')), keys(always('2')));
  assert.deepEqual(keys(always('1')), keys(always('1')));
  assert.deepEqual(keys(ifNotPresent('1')), keys(ifNotPresent('2')));
});
