// What compile asks of the module store: one fetch per key, read back synchronously as a WasmModuleState.
import type { WasmModuleState } from '../wasm-plugin-spec.js';
import type { ModuleLocation } from './module-location.js';

export interface WasmModuleRequest {
  /** Identity of one download: requests with the same key share one fetch and one result. */
  readonly fetchKey: string;
  /** `namespace/name` of the WasmPlugin (a re-pull keeps serving this plugin's previous module meanwhile). */
  readonly plugin: string;
  readonly location: ModuleLocation;
  /** `sha256` from the WasmPlugin: the module's digest (file, http) or the image manifest digest (oci), as Istio checks it. */
  readonly sha256: string | undefined;
  /** A module already cached for this pin may be used without downloading (false for Always and unpinned modules). */
  readonly reuseCached: boolean;
}

/** The store as compile sees it: a synchronous read with no side effects. */
export interface WasmModuleLookup {
  state(request: WasmModuleRequest): WasmModuleState;
}

/** A fetch failure with the words a diagnostic should carry. */
export class ModuleFetchError extends Error {}

export const PENDING: WasmModuleState = Object.freeze({ kind: 'pending' });
