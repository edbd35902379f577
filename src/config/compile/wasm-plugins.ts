// The WasmPlugin stages of the port filter chain: which plugins run on a Service port, in which phase and
// order (priority descending, then creation time, name, namespace, as Istio sorts them), each as the
// runtime's filter when its module is ready, else per failStrategy. Also lists the modules to fetch.
import { createHash } from 'node:crypto';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { WasmPluginResourceSpec } from '../model/wasm-plugin.js';
import type { Valid } from '../validate/validate.js';
import type { HttpFilter } from '../../filters/types.js';
import { parseModuleLocation, reusesCachedModule } from '../../wasm/fetch/module-location.js';
import { PENDING, type WasmModuleLookup, type WasmModuleRequest } from '../../wasm/fetch/module-request.js';
import type { WasmFilterFactory, WasmModuleState, WasmPhase, WasmPluginSpec } from '../../wasm/wasm-plugin-spec.js';
import type { FilterStage, PortFilterInput } from './port-filters.js';
import { matchesPort, type WasmAttachInput, wasmAttachments } from './wasm-plugins-attach.js';
import { WasmFailClosedFilter } from './wasm-plugins-filter.js';

/** What the running waypoint gives compile (absent for `waypoint validate` and goldens: every module is pending). */
export interface WasmCompileOptions {
  readonly modules: WasmModuleLookup;
  /** The proxy-wasm host; absent: a ready module cannot run and failStrategy applies. */
  readonly factory: WasmFilterFactory | undefined;
  /** The process environment, for `vmConfig.env` entries with `valueFrom: HOST`. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
}

/** One plugin on one port, as /config_dump shows it. */
export interface WasmPortPlugin {
  readonly plugin: string;
  readonly phase: WasmPhase;
  readonly priority: number;
  readonly failStrategy: WasmPluginSpec['failStrategy'];
  readonly url: string;
  readonly module: { readonly state: 'ready'; readonly sha256: string } | { readonly state: 'pending' } | { readonly state: 'failed'; readonly reason: string };
  /** What requests see: the plugin runs, is skipped (FAIL_OPEN), or answers 503 (FAIL_CLOSE). */
  readonly effect: 'runs' | 'skipped' | 'fail-closed';
}

export interface WasmSnapshot {
  /** Every module the snapshot references, for the module store (src/wasm/fetch/module-store.ts). */
  readonly requests: ReadonlyArray<WasmModuleRequest>;
  /** `namespace/name:port` of a Service port → its plugins in chain order. */
  readonly ports: ReadonlyMap<string, ReadonlyArray<WasmPortPlugin>>;
}

export interface WasmStages {
  readonly authn: FilterStage;
  readonly authz: FilterStage;
  readonly stats: FilterStage;
  readonly unspecified: FilterStage;
  /** Read after every Service has been built (the stages fill `ports` as they run). */
  snapshot(): WasmSnapshot | undefined;
}

interface Compiled {
  readonly valid: Valid<WasmPluginResourceSpec>;
  readonly spec: WasmPluginSpec;
  readonly waypointWide: boolean;
  readonly services: ReadonlySet<string>;
  readonly request: WasmModuleRequest;
  /** Shared fail-closed filter for a module that is not ready or cannot run. */
  readonly failClosed: HttpFilter;
}

export function compileWasmPlugins(plugins: ReadonlyArray<Valid<WasmPluginResourceSpec>>, input: WasmAttachInput, options: WasmCompileOptions | undefined, out: Diagnostic[]): WasmStages {
  const compiled: Compiled[] = [];
  for (const valid of [...plugins].sort(byCreation)) {
    const attachments = wasmAttachments(valid, input, out);
    if (attachments.length === 0) continue;
    reportIgnoredFields(valid, out);
    const location = parseModuleLocation(valid.spec.url);
    const sha256 = valid.spec.sha256 === '' ? undefined : valid.spec.sha256;
    const reuse = reusesCachedModule(location, valid.spec.imagePullPolicy, sha256);
    // Always (or an unpinned http/file module): any change of the resource, metadata included, pulls again (Istio).
    const fetchKey = reuse ? `${location.url}\u0000${sha256 ?? ''}` : `${location.url}\u0000${sha256 ?? ''}\u0000${valid.key}\u0000${fingerprint(valid)}`;
    const request: WasmModuleRequest = { fetchKey, plugin: valid.key, location, sha256, reuseCached: reuse };
    const module = options?.modules.state(request) ?? PENDING;
    const spec: WasmPluginSpec = Object.freeze({
      key: valid.key,
      rootId: valid.spec.pluginName ?? '',
      configuration: valid.spec.pluginConfig === undefined ? '' : JSON.stringify(valid.spec.pluginConfig),
      vmEnv: vmEnv(valid, options?.hostEnv ?? {}, out),
      failStrategy: valid.spec.failStrategy === 'FAIL_OPEN' ? 'FAIL_OPEN' : 'FAIL_CLOSE',
      phase: valid.spec.phase,
      // The API documents 0 as the default priority (newer Istio code sorts an unset priority last).
      priority: valid.spec.priority ?? 0,
      module,
    });
    reportModule(valid, spec, options !== undefined, out);
    compiled.push({
      valid, spec, request,
      waypointWide: attachments.some((a) => a.kind === 'waypoint'),
      services: new Set(attachments.flatMap((a) => (a.kind === 'service' ? [a.service] : []))),
      failClosed: new WasmFailClosedFilter(valid.key),
    });
  }
  // Within a phase: higher priority first; ties keep the creation-time order established above (Istio's stable sort).
  const ordered = [...compiled].sort((a, b) => b.spec.priority - a.spec.priority);
  // Keyed by plugin too, so a port whose chain is built twice lists each plugin once.
  const ports = new Map<string, Map<string, WasmPortPlugin>>();
  const runtimeFailures = new Set<string>();
  const stage = (phase: WasmPhase): FilterStage => (port: PortFilterInput) => {
    const filters: HttpFilter[] = [];
    for (const c of ordered) {
      if (c.spec.phase !== phase || !(c.waypointWide || c.services.has(port.service.key)) || !matchesPort(c.valid.spec, port.port)) continue;
      const { filter, view } = filterFor(c, port, options?.factory, runtimeFailures, out);
      if (filter !== undefined) filters.push(filter);
      const key = `${port.service.key}:${port.port}`;
      const onPort = ports.get(key) ?? new Map<string, WasmPortPlugin>();
      onPort.set(c.spec.key, view);
      ports.set(key, onPort);
    }
    return filters;
  };
  return {
    authn: stage('AUTHN'),
    authz: stage('AUTHZ'),
    stats: stage('STATS'),
    unspecified: stage('UNSPECIFIED_PHASE'),
    snapshot: () => (compiled.length === 0 ? undefined : Object.freeze({
      requests: Object.freeze(compiled.map((c) => c.request)),
      ports: new Map([...ports].map(([key, onPort]) => [key, Object.freeze([...onPort.values()])])),
    })),
  };
}

function filterFor(c: Compiled, port: PortFilterInput, factory: WasmFilterFactory | undefined, reported: Set<string>, out: Diagnostic[]): { filter: HttpFilter | undefined; view: WasmPortPlugin } {
  const base = { plugin: c.spec.key, phase: c.spec.phase, priority: c.spec.priority, failStrategy: c.spec.failStrategy, url: c.request.location.url };
  const failOpen = c.spec.failStrategy === 'FAIL_OPEN';
  const module = c.spec.module;
  if (module.kind !== 'ready') {
    const view: WasmPortPlugin = { ...base, module: module.kind === 'pending' ? { state: 'pending' } : { state: 'failed', reason: module.reason }, effect: failOpen ? 'skipped' : 'fail-closed' };
    return { filter: failOpen ? undefined : c.failClosed, view };
  }
  const result = factory === undefined
    ? { ok: false as const, reason: 'no Wasm runtime is configured in this process', filter: c.failClosed }
    : factory.filterFor(c.spec, port);
  if (result.ok) return { filter: result.filter, view: { ...base, module: { state: 'ready', sha256: module.sha256 }, effect: 'runs' } };
  if (!reported.has(c.spec.key)) {
    reported.add(c.spec.key);
    out.push(resourceDiagnostic(c.valid.raw, 'warning', 'wasm-module-invalid', ['spec', 'url'],
      `the Wasm module (sha256 ${module.sha256}) cannot run: ${result.reason}; ${failOpen ? 'FAIL_OPEN: the plugin is skipped' : 'FAIL_CLOSE: requests get 503 (wasm_fail_stream)'}`));
  }
  return { filter: failOpen ? undefined : result.filter, view: { ...base, module: { state: 'failed', reason: result.reason }, effect: failOpen ? 'skipped' : 'fail-closed' } };
}

function reportModule(valid: Valid<WasmPluginResourceSpec>, spec: WasmPluginSpec, fetching: boolean, out: Diagnostic[]): void {
  const effect = spec.failStrategy === 'FAIL_OPEN' ? 'FAIL_OPEN: the plugin is skipped' : 'FAIL_CLOSE: requests get 503 (wasm_fail_stream)';
  if (spec.module.kind === 'failed') {
    out.push(resourceDiagnostic(valid.raw, 'warning', 'wasm-module-unavailable', ['spec', 'url'], `the Wasm module cannot be fetched: ${spec.module.reason}; ${effect} (retried periodically)`));
  } else if (spec.module.kind === 'pending') {
    out.push(resourceDiagnostic(valid.raw, 'info', 'wasm-module-pending', ['spec', 'url'],
      fetching ? `the Wasm module is being fetched; until it is ready, ${effect}` : `the Wasm module is not fetched in this mode (validation only); at run time, until it is ready, ${effect}`));
  }
}

function reportIgnoredFields(valid: Valid<WasmPluginResourceSpec>, out: Diagnostic[]): void {
  const spec = valid.spec;
  if (spec.imagePullSecret !== undefined && spec.imagePullSecret !== '') {
    out.push(resourceDiagnostic(valid.raw, 'warning', 'ignored-field', ['spec', 'imagePullSecret'],
      'imagePullSecret is not supported by this waypoint yet: registries are accessed anonymously (anonymous Bearer tokens included)'));
  }
  if (spec.verificationKey !== undefined && spec.verificationKey !== '') {
    out.push(resourceDiagnostic(valid.raw, 'warning', 'ignored-field', ['spec', 'verificationKey'], 'verificationKey is not implemented (as in Istio): ignored'));
  }
  if (spec.failStrategy === 'FAIL_RELOAD') {
    out.push(resourceDiagnostic(valid.raw, 'info', 'unsupported-value', ['spec', 'failStrategy'],
      'FAIL_RELOAD is treated as FAIL_CLOSE: a plugin instance that fails at run time is always replaced by this waypoint'));
  }
}

/** `vmConfig.env`: INLINE values as written, HOST values copied from the process environment (absent: not set). */
function vmEnv(valid: Valid<WasmPluginResourceSpec>, hostEnv: Readonly<Record<string, string | undefined>>, out: Diagnostic[]): ReadonlyMap<string, string> {
  const env = new Map<string, string>();
  (valid.spec.vmConfig?.env ?? []).forEach((e, i) => {
    if (e.valueFrom === 'INLINE') {
      env.set(e.name, e.value ?? '');
      return;
    }
    const value = hostEnv[e.name];
    if (value === undefined) {
      out.push(resourceDiagnostic(valid.raw, 'info', 'host-env-missing', ['spec', 'vmConfig', 'env', i, 'name'], `host environment variable ${e.name} is not set: the plugin does not get it`));
    } else env.set(e.name, value);
  });
  return env;
}

function byCreation(a: Valid<WasmPluginResourceSpec>, b: Valid<WasmPluginResourceSpec>): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  const an = a.raw.metadata.name;
  const bn = b.raw.metadata.name;
  if (an !== bn) return an < bn ? -1 : 1;
  const ans = a.raw.metadata.namespace;
  const bns = b.raw.metadata.namespace;
  return ans === bns ? 0 : ans < bns ? -1 : 1;
}

/** Changes with any change of the resource: Istio re-pulls Always modules when the resourceVersion changes. */
function fingerprint(valid: Valid<WasmPluginResourceSpec>): string {
  const { status: _status, ...object } = valid.raw.object;
  return createHash('sha256').update(JSON.stringify(object)).digest('hex').slice(0, 16);
}
