// The proxy-wasm host as compile sees it (WasmFilterFactory): prepares each module once per digest, keeps
// one PluginHandle (and its VM) per plugin key + digest + configuration across snapshots, and exports the
// plugins' metrics on /stats/prometheus. Shared data, queues and metrics are scoped by the plugin's VM id.
import type { PortFilterInput } from '../../config/compile/port-filters.js';
import type { Snapshot } from '../../config/snapshot.js';
import type { ExpositionWriter, MetricsSource } from '../../observability/exposition.js';
import type { Logger } from '../../observability/logger.js';
import type { EndpointRegistry } from '../../upstream/endpoint-registry.js';
import type { Random } from '../../upstream/load-balancer.js';
import type { WasmFilterFactory, WasmFilterResult, WasmPluginSpec } from '../wasm-plugin-spec.js';
import { type HttpCaller, MeshHttpCaller } from './http-caller.js';
import { prepareModule, type PrepareResult } from './module-prepare.js';
import { PluginHandle } from './plugin-handle.js';
import { WasmMetricsRegistry } from './plugin-metrics.js';
import { SharedStore } from './shared-state.js';
import { failedPluginFilter, WasmHttpFilter } from './wasm-http-filter.js';

export interface WasmRuntimeOptions {
  readonly log: Logger;
  /** The live snapshot, to resolve proxy_http_call upstreams to clusters. */
  readonly snapshot?: () => Snapshot | undefined;
  /** The waypoint's endpoint pools (http_call goes through them); without, only literal `ip:port` upstreams work. */
  readonly endpoints?: () => EndpointRegistry | undefined;
  readonly random?: Random;
  /**
   * CPU budget per callback, in fuel units (one per function entry and loop iteration). The default
   * stops a runaway loop within roughly a tenth of a second on this class of machine.
   */
  readonly fuelPerCallback?: number;
  /** Memory cap per VM in 64 KiB pages (default 1024 = 64 MiB). */
  readonly maxMemoryPages?: number;
  /** `node.id` / `node.cluster` properties. */
  readonly nodeId?: string;
  /** Replaces the http_call transport (tests). */
  readonly httpCaller?: HttpCaller;
}

export const DEFAULT_FUEL_PER_CALLBACK = 50_000_000;
export const DEFAULT_MAX_MEMORY_PAGES = 1024;

export class WasmRuntime implements WasmFilterFactory, MetricsSource {
  readonly #options: WasmRuntimeOptions;
  readonly #modules = new Map<string, PrepareResult>();
  readonly #handles = new Map<string, PluginHandle>();
  /** Plugin key → the handle key it currently uses (a new digest or configuration retires the old handle). */
  readonly #current = new Map<string, string>();
  readonly #shared = new SharedStore();
  readonly #metrics = new WasmMetricsRegistry();
  readonly #http: HttpCaller;

  constructor(options: WasmRuntimeOptions) {
    this.#options = options;
    this.#http = options.httpCaller ?? new MeshHttpCaller({
      snapshot: options.snapshot ?? (() => undefined),
      endpoints: options.endpoints ?? (() => undefined),
      random: options.random ?? Math.random,
    });
  }

  filterFor(spec: WasmPluginSpec, _port: PortFilterInput): WasmFilterResult {
    const name = `wasm.${spec.key}`;
    const state = spec.module;
    if (state.kind !== 'ready') {
      const reason = state.kind === 'pending' ? 'the module has not been fetched yet' : state.reason;
      return { ok: false, reason, filter: failedPluginFilter(name, spec.failStrategy) };
    }
    const prepared = this.#prepare(state.sha256, state.bytes);
    if (!prepared.ok) return { ok: false, reason: prepared.reason, filter: failedPluginFilter(name, spec.failStrategy) };
    const handleKey = [spec.key, state.sha256, spec.rootId, spec.configuration, ...[...spec.vmEnv].flat()].join('\0');
    let handle = this.#handles.get(handleKey);
    if (handle === undefined) {
      handle = new PluginHandle(prepared.prepared, {
        key: spec.key,
        rootId: spec.rootId,
        vmId: spec.key,
        configuration: Buffer.from(spec.configuration),
        vmConfiguration: new Uint8Array(0),
        env: spec.vmEnv,
      }, {
        log: this.#options.log,
        shared: this.#shared.scope(spec.key),
        metrics: this.#metrics.scope(spec.key, spec.key),
        http: this.#http,
        fuelPerCallback: this.#options.fuelPerCallback ?? DEFAULT_FUEL_PER_CALLBACK,
        nodeId: this.#options.nodeId ?? 'waypoint',
      });
      this.#handles.set(handleKey, handle);
    }
    const previous = this.#current.get(spec.key);
    if (previous !== handleKey) {
      if (previous !== undefined) {
        this.#handles.get(previous)?.retire();
        this.#handles.delete(previous);
      }
      this.#current.set(spec.key, handleKey);
    }
    const filter = new WasmHttpFilter(name, handle, spec.failStrategy);
    const failure = handle.warm();
    return failure === undefined ? { ok: true, filter } : { ok: false, reason: failure, filter };
  }

  /** The handle serving `key` now (tests inspect VM replacement through it). */
  handle(key: string): PluginHandle | undefined {
    const current = this.#current.get(key);
    return current === undefined ? undefined : this.#handles.get(current);
  }

  collect(w: ExpositionWriter): void {
    this.#metrics.collect(w);
  }

  /** Stops every plugin's timers (the waypoint is stopping). */
  close(): void {
    for (const h of this.#handles.values()) h.retire();
  }

  #prepare(sha256: string, bytes: Uint8Array): PrepareResult {
    let r = this.#modules.get(sha256);
    if (r === undefined) {
      r = prepareModule(bytes, {
        initialFuel: this.#options.fuelPerCallback ?? DEFAULT_FUEL_PER_CALLBACK,
        maxMemoryPages: this.#options.maxMemoryPages ?? DEFAULT_MAX_MEMORY_PAGES,
      });
      this.#modules.set(sha256, r);
    }
    return r;
  }
}
