// /config_dump view of the WasmPlugins on one Service port: each plugin with its module digest and state,
// and the port's whole filter chain by name, so the plugins' places among the built-in filters are visible.
import type { ServicePortConfig } from '../snapshot.js';
import type { WasmSnapshot } from './wasm-plugins.js';

export function dumpWasmPort(wasm: WasmSnapshot | undefined, service: string, port: Pick<ServicePortConfig, 'port' | 'filters'>): { wasmPlugins?: unknown; filterChain?: unknown } {
  const plugins = wasm?.ports.get(`${service}:${port.port}`);
  if (plugins === undefined || plugins.length === 0) return {};
  return { wasmPlugins: plugins, filterChain: port.filters.map((f) => f.name) };
}
