// One instance of a plugin's module: its exports, memory and fuel, the contexts it knows (the root context
// and one per HTTP stream) and the guarded call into the guest. Any trap (including fuel exhaustion and
// proc_exit) marks the VM failed for good: its heap may be inconsistent, so it is never called again and
// the runtime replaces it.
import type { Logger } from '../../observability/logger.js';
import { HeaderList } from '../../http/header-list.js';
import { type AbiVersion, MapType } from './abi.js';
import { headerListMap } from './header-maps.js';
import { GuestMemory } from './guest-memory.js';
import type { HeaderMap, HostContext } from './host-context.js';
import type { HttpCaller, HttpCallResponse } from './http-caller.js';
import { buildImports } from './imports/index.js';
import { FUEL_EXPORT } from './module-instrument.js';
import { RootContext } from './root-context.js';
import type { PluginMetrics } from './plugin-metrics.js';
import type { SharedState } from './shared-state.js';

export interface PluginIdentity {
  /** `namespace/name` of the WasmPlugin. */
  readonly key: string;
  readonly rootId: string;
  /** Scope of shared data, queues and metrics; one plugin never sees another's. */
  readonly vmId: string;
  readonly configuration: Uint8Array;
  readonly vmConfiguration: Uint8Array;
  readonly env: ReadonlyMap<string, string>;
}

export interface VmServices {
  readonly log: Logger;
  readonly shared: SharedState;
  readonly metrics: PluginMetrics;
  readonly http: HttpCaller;
  /** `node.id` / `node.cluster` properties. */
  readonly nodeId: string;
  /** Fuel (function entries + loop iterations) granted to each callback. */
  readonly fuelPerCallback: number;
}

export interface PreparedModule {
  readonly module: WebAssembly.Module;
  readonly abi: AbiVersion;
}

/** Thrown by guest calls on a failed VM (the caller applies the plugin's failStrategy). */
export class VmFailed extends Error {}

type GuestFn = (...args: number[]) => unknown;

const EMPTY_MEMORY = new WebAssembly.Memory({ initial: 0 });

/** The response of an http_call while proxy_on_http_call_response runs. */
export interface CallResponseView {
  readonly headers: HeaderList;
  readonly trailers: HeaderList;
  readonly body: Uint8Array;
  readonly grpcStatus: number | undefined;
}

export class PluginVm {
  readonly identity: PluginIdentity;
  readonly abi: AbiVersion;
  readonly services: VmServices;
  readonly memory: GuestMemory;
  readonly root: RootContext;
  /** The context host functions act on: the one whose callback runs, or proxy_set_effective_context's. */
  effective: HostContext;
  /** Why the VM stopped, once it did. */
  failure: string | undefined = undefined;
  /** Set while proxy_on_http_call_response runs. */
  callResponse: CallResponseView | undefined = undefined;
  /** http_call ids still waiting for a response (a stream that ends cancels its own). */
  readonly pendingCalls = new Set<number>();
  #nextCallId = 1;
  /** Called once when the VM fails (streams waiting on it apply their failStrategy). */
  readonly #onFailure: Array<(reason: string) => void> = [];
  readonly #exports: Record<string, unknown>;
  readonly #fuel: WebAssembly.Global | undefined;
  readonly #contexts = new Map<number, HostContext>();
  #nextId = 2;
  #depth = 0;

  constructor(prepared: PreparedModule, identity: PluginIdentity, services: VmServices) {
    this.identity = identity;
    this.abi = prepared.abi;
    this.services = services;
    this.root = new RootContext(this, 1);
    this.effective = this.root;
    this.#contexts.set(1, this.root);
    let instance: WebAssembly.Instance | undefined;
    // Host calls made from the module's start function (AssemblyScript top-level code) run before
    // `instance` exists: the memory getter below reaches it lazily.
    const lazy = { memory: undefined as WebAssembly.Memory | undefined };
    this.memory = new GuestMemory(
      { get buffer() { return (lazy.memory ?? EMPTY_MEMORY).buffer; } } as WebAssembly.Memory,
      (size) => this.#allocate(size),
    );
    const imports = buildImports(this, WebAssembly.Module.imports(prepared.module));
    try {
      instance = new WebAssembly.Instance(prepared.module, imports);
    } catch (err) {
      throw new VmFailed(`instantiation failed: ${describe(err)}`);
    }
    this.#exports = instance.exports as Record<string, unknown>;
    const memory = this.#exports['memory'];
    if (!(memory instanceof WebAssembly.Memory)) throw new VmFailed('module exports no memory');
    lazy.memory = memory;
    const fuel = this.#exports[FUEL_EXPORT];
    this.#fuel = fuel instanceof WebAssembly.Global ? fuel : undefined;
  }

  /** `_initialize` (then `main(0, 0)`) or `_start`, as the spec's module start-up says. */
  start(): void {
    if (this.has('_initialize')) {
      this.call('_initialize');
      if (this.has('main')) this.call('main', 0, 0);
    } else if (this.has('_start')) this.call('_start');
  }

  has(name: string): boolean {
    return typeof this.#exports[name] === 'function';
  }

  /** True while guest code runs (a host call may end a stream: its callbacks must wait, never re-enter). */
  get busy(): boolean {
    return this.#depth > 0;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  onFailure(listener: (reason: string) => void): void {
    this.#onFailure.push(listener);
  }

  newContextId(): number {
    return this.#nextId++;
  }

  register(ctx: HostContext): void {
    this.#contexts.set(ctx.id, ctx);
  }

  unregister(id: number): void {
    this.#contexts.delete(id);
  }

  context(id: number): HostContext | undefined {
    return this.#contexts.get(id);
  }

  /**
   * Calls an export on behalf of `ctx` (which becomes the effective context). Missing callbacks are
   * optional in the ABI: they return undefined. A trap fails the VM and throws VmFailed.
   */
  callFor(ctx: HostContext, name: string, ...args: number[]): number | undefined {
    const prev = this.effective;
    this.effective = ctx;
    try {
      return this.call(name, ...args);
    } finally {
      this.effective = prev;
    }
  }

  call(name: string, ...args: number[]): number | undefined {
    if (this.failure !== undefined) throw new VmFailed(this.failure);
    const fn = this.#exports[name];
    if (typeof fn !== 'function') return undefined;
    // Fuel is granted per top-level callback; nested entries (the allocator inside a host call) share it.
    if (this.#depth === 0 && this.#fuel !== undefined) this.#fuel.value = this.services.fuelPerCallback;
    this.#depth++;
    try {
      const r = (fn as GuestFn)(...args);
      return typeof r === 'number' ? r : typeof r === 'bigint' ? Number(r) : undefined;
    } catch (err) {
      if (err instanceof VmFailed) throw err;
      this.fail(this.#fuel !== undefined && this.#fuel.value === 0
        ? `exceeded its CPU budget of ${this.services.fuelPerCallback} steps in ${name} (stopped)`
        : `${name} trapped: ${describe(err)}`);
      throw new VmFailed(this.failure ?? 'failed');
    } finally {
      this.#depth--;
    }
  }

  /** Marks the VM failed (a trap, proc_exit, abort) and tells whoever waits on it. */
  fail(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    this.services.log.warn('wasm plugin failed', { plugin: this.identity.key, reason });
    this.root.stop();
    this.pendingCalls.clear();
    for (const ctx of [...this.#contexts.values()]) ctx.vmFailed?.();
    for (const l of this.#onFailure.splice(0)) l(reason);
  }

  /** The map `type` of the effective context, or of the http_call response being delivered. */
  headerMap(type: number): HeaderMap | undefined {
    if (type === MapType.HttpCallResponseHeaders || type === MapType.HttpCallResponseTrailers) {
      const r = this.callResponse;
      if (r === undefined) return undefined;
      return headerListMap(type === MapType.HttpCallResponseHeaders ? r.headers : r.trailers);
    }
    return this.effective.headerMap(type);
  }

  newCallId(): number {
    return this.#nextCallId++;
  }

  /** An http_call finished (`res` undefined: failed or timed out, reported as 0 headers). */
  deliverHttpCall(contextId: number, callId: number, res: HttpCallResponse | undefined): void {
    if (!this.pendingCalls.delete(callId) || this.failed) return;
    const ctx = this.context(contextId);
    if (ctx === undefined) return;
    const headers = new HeaderList(res === undefined ? [] : [...res.headers]);
    const trailers = new HeaderList(res === undefined ? [] : [...res.trailers]);
    const grpc = res === undefined ? undefined : Number(headers.get('grpc-status') ?? trailers.get('grpc-status') ?? Number.NaN);
    this.callResponse = { headers, trailers, body: res?.body ?? new Uint8Array(0), grpcStatus: grpc !== undefined && Number.isInteger(grpc) ? grpc : undefined };
    try {
      this.callFor(ctx, 'proxy_on_http_call_response', ctx.id, callId, headers.fields.length >> 1, this.callResponse.body.length, trailers.fields.length >> 1);
    } catch (err) {
      if (!(err instanceof VmFailed)) throw err;
    } finally {
      this.callResponse = undefined;
    }
  }

  #allocate(size: number): number {
    const name = this.has('proxy_on_memory_allocate') ? 'proxy_on_memory_allocate' : this.has('malloc') ? 'malloc' : undefined;
    if (name === undefined) return 0;
    return this.call(name, size) ?? 0;
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
