// Builds a module's import object from what it imports. Every ABI function links (the few this host does
// not serve answer Unimplemented); names outside the ABI never get here: module preparation refuses them.
import { ENV_FUNCTIONS, Status, WASI_MODULES } from '../abi.js';
import type { PluginVm } from '../plugin-vm.js';
import { bufferImports } from './buffers.js';
import type { HostFunction, HostFunctions } from './guard.js';
import { headerMapImports } from './header-maps.js';
import { httpCallImports } from './http-call.js';
import { logTimeImports } from './log-time.js';
import { metricImports } from './metrics.js';
import { propertyImports } from './properties.js';
import { sharedImports } from './shared.js';
import { streamImports } from './stream.js';
import { wasiImports } from './wasi.js';

const unimplemented: HostFunction = () => Status.Unimplemented;

export function buildImports(vm: PluginVm, wanted: ReadonlyArray<WebAssembly.ModuleImportDescriptor>): WebAssembly.Imports {
  const env: HostFunctions = {
    ...logTimeImports(vm), ...headerMapImports(vm), ...bufferImports(vm), ...streamImports(vm), ...propertyImports(vm),
    ...httpCallImports(vm), ...sharedImports(vm), ...metricImports(vm),
  };
  let wasi: HostFunctions | undefined;
  const out: Record<string, Record<string, HostFunction>> = {};
  for (const imp of wanted) {
    if (imp.kind !== 'function') continue;
    const table = imp.module === 'env' ? env : WASI_MODULES.has(imp.module) ? (wasi ??= wasiImports(vm)) : undefined;
    const fn = table?.[imp.name] ?? (imp.module === 'env' && ENV_FUNCTIONS.has(imp.name) ? unimplemented : undefined);
    if (fn !== undefined) (out[imp.module] ??= {})[imp.name] = fn;
  }
  return out as WebAssembly.Imports;
}
