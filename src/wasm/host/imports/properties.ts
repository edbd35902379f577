// Properties (Envoy attributes): plugin_name/plugin_root_id/plugin_vm_id and node.* here, stream attributes
// from the effective context (stream-properties.ts), and values set with proxy_set_property, which later
// reads on the same context see (Envoy keeps them as filter state).
import { Status } from '../abi.js';
import type { PropertyValue } from '../host-context.js';
import type { PluginVm } from '../plugin-vm.js';
import { fault, type HostFunctions } from './guard.js';

export function propertyImports(vm: PluginVm): HostFunctions {
  const mem = vm.memory;
  const id = vm.identity;
  const slash = id.key.indexOf('/');
  // Istio names the Envoy filter config `<namespace>.<name>` of the WasmPlugin.
  const pluginName = slash === -1 ? id.key : `${id.key.slice(0, slash)}.${id.key.slice(slash + 1)}`;
  const fixed = new Map<string, PropertyValue>([
    ['plugin_name', pluginName],
    ['plugin_root_id', id.rootId],
    ['plugin_vm_id', id.vmId],
    ['node\0id', vm.services.nodeId],
    ['node\0cluster', vm.services.nodeId],
  ]);
  return {
    proxy_get_property(pp: number, pl: number, ptrPtr: number, sizePtr: number): number {
      try {
        const raw = mem.string(pp, pl);
        // Paths are NUL-joined segments; a trailing NUL (some SDKs send one) is ignored.
        const key = raw.endsWith('\0') ? raw.slice(0, -1) : raw;
        const ctx = vm.effective;
        const set = ctx.setProperties.get(key) ?? (ctx === vm.root ? undefined : vm.root.setProperties.get(key));
        const value = set ?? fixed.get(key) ?? ctx.streamProperty(key.split('\0'));
        if (value === undefined) return Status.NotFound;
        mem.returnBytes(encodeProperty(value), ptrPtr, sizePtr);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_set_property(pp: number, pl: number, vp: number, vl: number): number {
      try {
        const raw = mem.string(pp, pl);
        const key = raw.endsWith('\0') ? raw.slice(0, -1) : raw;
        if (fixed.has(key)) return Status.BadArgument;
        vm.effective.setProperties.set(key, mem.copy(vp, vl));
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
  };
}

const EMPTY = new Uint8Array(0);

/** Envoy's Wasm encoding: strings as bytes, integers as 8-byte little-endian, booleans as one byte, maps as header pairs. */
export function encodeProperty(value: PropertyValue): Uint8Array {
  if (typeof value === 'string') return value === '' ? EMPTY : Buffer.from(value);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'boolean') return Uint8Array.of(value ? 1 : 0);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt.asIntN(64, typeof value === 'bigint' ? value : BigInt(Math.trunc(value))));
    return b;
  }
  return serializePairs(value);
}

export function serializePairs(fields: ReadonlyArray<string>): Buffer {
  const enc = fields.map((f) => Buffer.from(f));
  const n = enc.length >> 1;
  let size = 4 + n * 8;
  for (const e of enc) size += e.length + 1;
  const out = Buffer.alloc(size);
  out.writeUInt32LE(n, 0);
  let data = 4 + n * 8;
  for (let i = 0; i < enc.length; i++) {
    const e = enc[i] as Buffer;
    out.writeUInt32LE(e.length, 4 + i * 4);
    e.copy(out, data);
    data += e.length + 1;
  }
  return out;
}
