// Header and trailer maps: get/pairs/size/add/replace/remove/set_pairs on the effective context's maps.
import { Status } from '../abi.js';
import type { PluginVm } from '../plugin-vm.js';
import { fault, type HostFunctions } from './guard.js';

export function headerMapImports(vm: PluginVm): HostFunctions {
  const mem = vm.memory;
  // 0.1.0 answered OK with an empty value for an absent key; 0.2.x answers NotFound.
  const absentIsEmpty = vm.abi === '0.1.0';
  return {
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      try {
        const map = vm.headerMap(type);
        if (map === undefined) return Status.NotFound;
        mem.returnPairs(map.pairs(), ptrPtr, sizePtr);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_get_header_map_size(type: number, sizePtr: number): number {
      try {
        const map = vm.headerMap(type);
        if (map === undefined) return Status.NotFound;
        const fields = map.pairs();
        let size = 4 + (fields.length >> 1) * 8;
        for (const f of fields) size += Buffer.byteLength(f) + 1;
        mem.setU32(sizePtr, size);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_get_header_map_value(type: number, kp: number, kl: number, ptrPtr: number, sizePtr: number): number {
      try {
        const map = vm.headerMap(type);
        if (map === undefined) return Status.NotFound;
        const value = map.get(mem.string(kp, kl).toLowerCase());
        if (value === undefined && !absentIsEmpty) return Status.NotFound;
        mem.returnString(value ?? '', ptrPtr, sizePtr);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_add_header_map_value(type: number, kp: number, kl: number, vp: number, vl: number): number {
      try {
        const map = vm.headerMap(type);
        if (map === undefined) return Status.NotFound;
        map.add(mem.string(kp, kl).toLowerCase(), mem.string(vp, vl));
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_replace_header_map_value(type: number, kp: number, kl: number, vp: number, vl: number): number {
      try {
        const map = vm.headerMap(type);
        if (map === undefined) return Status.NotFound;
        map.replace(mem.string(kp, kl).toLowerCase(), mem.string(vp, vl));
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_remove_header_map_value(type: number, kp: number, kl: number): number {
      try {
        const map = vm.headerMap(type);
        if (map === undefined) return Status.NotFound;
        map.remove(mem.string(kp, kl).toLowerCase());
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_set_header_map_pairs(type: number, ptr: number, len: number): number {
      try {
        const map = vm.headerMap(type);
        if (map === undefined) return Status.NotFound;
        const fields = mem.pairs(ptr, len);
        for (let i = 0; i < fields.length; i += 2) fields[i] = (fields[i] as string).toLowerCase();
        map.setPairs(fields);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
  };
}
