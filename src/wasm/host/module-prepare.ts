// Turns module bytes into something a VM can run, or the reason it cannot: it must compile, advertise a
// proxy-wasm ABI version this host speaks, import nothing outside the ABI and WASI (Envoy refuses unknown
// imports, so do we, naming them), and export its memory. The accepted module is then instrumented
// (module-instrument.ts) and compiled again.
import { ABI_EXPORTS, type AbiVersion, ENV_FUNCTIONS, WASI_FUNCTIONS, WASI_MODULES } from './abi.js';
import { instrumentModule } from './module-instrument.js';
import { describe, type PreparedModule } from './plugin-vm.js';

export interface ModuleLimits {
  readonly initialFuel: number;
  readonly maxMemoryPages: number;
}

export type PrepareResult = { readonly ok: true; readonly prepared: PreparedModule } | { readonly ok: false; readonly reason: string };

export function prepareModule(bytes: Uint8Array, limits: ModuleLimits): PrepareResult {
  let original: WebAssembly.Module;
  try {
    original = new WebAssembly.Module(bytes);
  } catch (err) {
    return { ok: false, reason: `module does not compile: ${describe(err)}` };
  }
  const exports = WebAssembly.Module.exports(original);
  const names = new Set(exports.map((e) => e.name));
  const abi = ABI_EXPORTS.find(([name]) => names.has(name))?.[1];
  if (abi === undefined) {
    const other = exports.find((e) => e.name.startsWith('proxy_abi_version_'))?.name;
    return {
      ok: false,
      reason: other !== undefined
        ? `unsupported proxy-wasm ABI version (${other}); this host speaks 0.2.1, 0.2.0 and 0.1.0`
        : 'module exports no proxy-wasm ABI version (proxy_abi_version_0_2_1, _0_2_0 or _0_1_0)',
    };
  }
  const unknown = WebAssembly.Module.imports(original).filter((i) => !known(i)).map((i) => `${i.module}.${i.name}`);
  if (unknown.length > 0) return { ok: false, reason: `module imports unknown host functions: ${unknown.join(', ')}` };
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) return { ok: false, reason: 'module exports no memory' };
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(instrumentModule(bytes, limits));
  } catch (err) {
    return { ok: false, reason: `module cannot be instrumented: ${describe(err)}` };
  }
  return { ok: true, prepared: { module, abi: abi satisfies AbiVersion } };
}

function known(i: WebAssembly.ModuleImportDescriptor): boolean {
  if (i.kind !== 'function') return false;
  if (i.module === 'env') return ENV_FUNCTIONS.has(i.name);
  return WASI_MODULES.has(i.module) && WASI_FUNCTIONS.has(i.name);
}
