// A mesh with one Service (`front`, a real echo backend behind it) whose port runs Wasm plugins built from
// test/fixtures/wasm: the plugins go through the waypoint's own WasmRuntime (filterFor) and are placed on
// the port's filter chain of the live snapshot, as the WasmPlugin compile stage does.
import type { PortFilterInput } from '../../src/config/compile/port-filters.js';
import type { HttpFilter } from '../../src/filters/types.js';
import type { WasmRuntime } from '../../src/wasm/host/wasm-runtime.js';
import type { WasmFailStrategy, WasmFilterResult, WasmPluginSpec } from '../../src/wasm/wasm-plugin-spec.js';
import { type Backend, type BackendHandler, echo, startBackend } from '../harness/backends.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';
import { sha256 } from '../fixtures/wasm/build.js';

export interface PluginDef {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly configuration?: string;
  readonly rootId?: string;
  readonly failStrategy?: WasmFailStrategy;
  readonly env?: ReadonlyMap<string, string>;
}

export interface WasmMesh {
  readonly mesh: TestMesh;
  readonly backend: Backend;
  readonly runtime: WasmRuntime;
  /** VIP of `front` (port 80). */
  readonly vip: string;
  /** Puts these plugins (in order) on port 80 of `service` (front); returns what the runtime said about each. */
  install(plugins: ReadonlyArray<PluginDef>, service?: string): WasmFilterResult[];
  close(): Promise<void>;
}

export function pluginSpec(p: PluginDef): WasmPluginSpec {
  return {
    key: `default/${p.name}`,
    rootId: p.rootId ?? '',
    configuration: p.configuration ?? '',
    vmEnv: p.env ?? new Map(),
    failStrategy: p.failStrategy ?? 'FAIL_CLOSE',
    phase: 'UNSPECIFIED_PHASE',
    priority: 0,
    module: { kind: 'ready', sha256: sha256(p.bytes), bytes: p.bytes },
  };
}

/** `extraYaml` gets the VIP allocator (front is vip(1)) to add Services of its own. */
export async function startWasmMesh(handler: BackendHandler = echo, extraYaml: (vip: (n: number) => string) => string = () => ''): Promise<WasmMesh> {
  const vip = vipRange();
  const backend = await startBackend('front', handler);
  const mesh = await startMesh({ 'mesh.yaml': [meshPreamble(), serviceYaml({ name: 'front', vip: vip(1), endpoints: [`127.0.0.1:${backend.port}`] }), extraYaml(vip)].join('\n') });
  const runtime = mesh.waypoint.wasmRuntime;
  if (runtime === undefined) throw new Error('the waypoint has no Wasm runtime');
  return {
    mesh,
    backend,
    runtime,
    vip: vip(1),
    install(plugins, service = 'front') {
      const store = mesh.waypoint.store;
      const snap = store.current;
      if (snap === undefined) throw new Error('no snapshot');
      const port: PortFilterInput = { service: { key: `default/${service}`, namespace: 'default', name: service, hostname: `${service}.default.svc.cluster.local` }, port: 80 };
      const results = plugins.map((p) => runtime.filterFor(pluginSpec(p), port));
      const filters: HttpFilter[] = results.map((r) => r.filter);
      const listeners = new Map([...snap.listeners].map(([k, l]) => [k, l.service.name === service ? { ...l, servicePort: { ...l.servicePort, filters: Object.freeze([...filters]) } } : l]));
      store.swap({ ...snap, listeners, version: snap.version + 1 });
      return results;
    },
    async close() {
      await mesh.close();
      await backend.close();
    },
  };
}
