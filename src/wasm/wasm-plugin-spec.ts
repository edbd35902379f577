// The contract between the WasmPlugin compile step (resource → spec) and the proxy-wasm host (spec → filter).
import type { PortFilterInput } from '../config/compile/port-filters.js';
import type { HttpFilter } from '../filters/types.js';

/** WasmPlugin `phase`: where the plugin sits relative to Istio's built-in authn, authz and stats filters. */
export type WasmPhase = 'AUTHN' | 'AUTHZ' | 'STATS' | 'UNSPECIFIED_PHASE';
export type WasmFailStrategy = 'FAIL_CLOSE' | 'FAIL_OPEN';

/** What a WasmPlugin `url` resolved to; fetching (file, http(s), oci) happens outside compile. */
export type WasmModuleState =
  | { readonly kind: 'ready'; readonly sha256: string; readonly bytes: Uint8Array }
  | { readonly kind: 'pending' }
  | { readonly kind: 'failed'; readonly reason: string };

/** One WasmPlugin as the host needs it, for one Service port. */
export interface WasmPluginSpec {
  /** `namespace/name` of the WasmPlugin: the stable key VMs are kept under across snapshots. */
  readonly key: string;
  /** `pluginName`: the root id the plugin reads as the `plugin_root_id` property ('' when absent). */
  readonly rootId: string;
  /** `pluginConfig` serialized as JSON ('' when absent), delivered to `proxy_on_configure`. */
  readonly configuration: string;
  /** `vmConfig.env`, resolved (inline values and host environment variables). */
  readonly vmEnv: ReadonlyMap<string, string>;
  readonly failStrategy: WasmFailStrategy;
  readonly phase: WasmPhase;
  readonly priority: number;
  readonly module: WasmModuleState;
}

/** The host as compile sees it: synchronous, no I/O; a module that cannot run reports why. */
export interface WasmFilterFactory {
  filterFor(spec: WasmPluginSpec, port: PortFilterInput): WasmFilterResult;
}

export type WasmFilterResult =
  | { readonly ok: true; readonly filter: HttpFilter }
  /** The module cannot be run (bad bytes, unknown imports, no ABI export...): `filter` applies failStrategy. */
  | { readonly ok: false; readonly reason: string; readonly filter: HttpFilter };
