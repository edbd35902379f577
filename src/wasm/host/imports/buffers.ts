// Buffers: request/response bodies (in body callbacks), the http_call response body, VM and plugin
// configuration (and 0.1.0's proxy_get_configuration).
import { BufferType, Status } from '../abi.js';
import type { PluginVm } from '../plugin-vm.js';
import { fault, type HostFunctions } from './guard.js';

export function bufferImports(vm: PluginVm): HostFunctions {
  const mem = vm.memory;
  const fixed = (type: number): Uint8Array | undefined => {
    if (type === BufferType.PluginConfiguration) return vm.identity.configuration;
    if (type === BufferType.VmConfiguration) return vm.identity.vmConfiguration;
    if (type === BufferType.HttpCallResponseBody) return vm.callResponse?.body;
    return undefined;
  };
  return {
    proxy_get_buffer_bytes(type: number, start: number, max: number, ptrPtr: number, sizePtr: number): number {
      try {
        const body = type === BufferType.RequestBody || type === BufferType.ResponseBody ? vm.effective.body(type) : undefined;
        let data: Uint8Array;
        if (body !== undefined) data = body.read(start >>> 0, max >>> 0);
        else {
          const all = fixed(type);
          if (all === undefined) return Status.NotFound;
          data = all.subarray(Math.min(start >>> 0, all.length), Math.min(all.length, (start >>> 0) + (max >>> 0)));
        }
        // As proxy-wasm-cpp-host: nothing to copy is Ok with the out-params untouched.
        if (data.length === 0) return Status.Ok;
        mem.returnBytes(data, ptrPtr, sizePtr);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
      try {
        const body = vm.effective.body(type);
        const length = body !== undefined ? body.length : fixed(type)?.length;
        if (length === undefined) return Status.NotFound;
        mem.setU32(lengthPtr, length);
        mem.setU32(flagsPtr, 0);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_set_buffer_bytes(type: number, start: number, size: number, vp: number, vl: number): number {
      try {
        const body = vm.effective.body(type);
        if (body === undefined) return Status.NotFound;
        body.replace(start >>> 0, size >>> 0, mem.copy(vp, vl));
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_get_configuration(ptrPtr: number, sizePtr: number): number {
      try {
        mem.returnBytes(vm.identity.configuration, ptrPtr, sizePtr);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
  };
}
