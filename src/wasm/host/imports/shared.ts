// Shared data (get / set with CAS) and shared queues (register, resolve, enqueue, dequeue) of this VM id.
import { Status } from '../abi.js';
import type { PluginVm } from '../plugin-vm.js';
import { fault, type HostFunctions } from './guard.js';

export function sharedImports(vm: PluginVm): HostFunctions {
  const mem = vm.memory;
  const state = vm.services.shared;
  const wake = (id: number): void => vm.root.queueReady(id);
  return {
    proxy_get_shared_data(kp: number, kl: number, ptrPtr: number, sizePtr: number, casPtr: number): number {
      try {
        const entry = state.get(mem.string(kp, kl));
        if (entry === undefined) return Status.NotFound;
        mem.setU32(casPtr, entry.cas);
        mem.returnBytes(entry.value, ptrPtr, sizePtr);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_set_shared_data(kp: number, kl: number, vp: number, vl: number, cas: number): number {
      try {
        return state.set(mem.string(kp, kl), mem.copy(vp, vl), cas >>> 0) === 'ok' ? Status.Ok : Status.CasMismatch;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_register_shared_queue(np: number, nl: number, idPtr: number): number {
      try {
        mem.setU32(idPtr, state.register(mem.string(np, nl), wake));
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_resolve_shared_queue(vp: number, vl: number, np: number, nl: number, idPtr: number): number {
      try {
        // Isolation: only this VM's own queues resolve (an empty vm_id means "this VM").
        const vmId = mem.string(vp, vl);
        if (vmId !== '' && vmId !== vm.identity.vmId) return Status.NotFound;
        const id = state.resolve(mem.string(np, nl));
        if (id === undefined) return Status.NotFound;
        mem.setU32(idPtr, id);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_enqueue_shared_queue(id: number, vp: number, vl: number): number {
      try {
        const r = state.enqueue(id >>> 0, mem.copy(vp, vl));
        return r === 'ok' ? Status.Ok : r === 'full' ? Status.InternalFailure : Status.NotFound;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_dequeue_shared_queue(id: number, ptrPtr: number, sizePtr: number): number {
      try {
        const item = state.dequeue(id >>> 0);
        if (item === undefined) return Status.NotFound;
        if (item === null) return Status.Empty;
        mem.returnBytes(item, ptrPtr, sizePtr);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
  };
}
