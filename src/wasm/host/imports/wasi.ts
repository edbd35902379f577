// The WASI preview1 subset proxy-wasm SDK runtimes use (istio-facts 4.4): stdout/stderr to the log, clocks,
// random bytes, the plugin's environment (vmConfig.env), no arguments, and proc_exit ending the VM.
import { randomFillSync } from 'node:crypto';
import type { PluginVm } from '../plugin-vm.js';
import { fault, type HostFunctions } from './guard.js';

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;
const ERRNO_NOSYS = 52;
const ERRNO_FAULT = 21;

/** Thrown by proc_exit: unwinds the guest; the VM is failed and replaced. */
export class ProcExit extends Error {}

function errno(e: unknown): number {
  return fault(e) === 0 ? ERRNO_SUCCESS : ERRNO_FAULT;
}

export function wasiImports(vm: PluginVm): HostFunctions {
  const mem = vm.memory;
  const log = vm.services.log;
  const env = [...vm.identity.env].map(([k, v]) => Buffer.from(`${k}=${v}\0`));
  return {
    fd_write(fd: number, iovs: number, count: number, writtenPtr: number): number {
      try {
        if (fd !== 1 && fd !== 2) return ERRNO_BADF;
        const parts: Buffer[] = [];
        let total = 0;
        for (let i = 0; i < count; i++) {
          const p = mem.u32(iovs + i * 8);
          const n = mem.u32(iovs + i * 8 + 4);
          parts.push(mem.copy(p, n));
          total += n;
        }
        mem.setU32(writtenPtr, total);
        const text = Buffer.concat(parts).toString('utf8').trimEnd();
        if (text !== '') (fd === 1 ? log.info : log.error)(text, { plugin: vm.identity.key });
        return ERRNO_SUCCESS;
      } catch (e) {
        return errno(e);
      }
    },
    fd_read: () => ERRNO_BADF,
    fd_close: () => ERRNO_BADF,
    fd_seek: () => ERRNO_BADF,
    fd_fdstat_get: () => ERRNO_BADF,
    fd_prestat_get: () => ERRNO_BADF,
    fd_prestat_dir_name: () => ERRNO_INVAL,
    poll_oneoff: () => ERRNO_NOSYS,
    sched_yield: () => ERRNO_SUCCESS,
    clock_res_get(_id: number, ptr: number): number {
      try {
        mem.setU64(ptr, 1000n);
        return ERRNO_SUCCESS;
      } catch (e) {
        return errno(e);
      }
    },
    clock_time_get(id: number, _precision: bigint, ptr: number): number {
      try {
        const ns = id === 0 ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
        mem.setU64(ptr, ns);
        return ERRNO_SUCCESS;
      } catch (e) {
        return errno(e);
      }
    },
    random_get(ptr: number, len: number): number {
      try {
        randomFillSync(mem.bytes(ptr, len));
        return ERRNO_SUCCESS;
      } catch (e) {
        return errno(e);
      }
    },
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      try {
        mem.setU32(countPtr, env.length);
        mem.setU32(sizePtr, env.reduce((n, e) => n + e.length, 0));
        return ERRNO_SUCCESS;
      } catch (e) {
        return errno(e);
      }
    },
    environ_get(ptrs: number, buf: number): number {
      try {
        let at = buf;
        for (let i = 0; i < env.length; i++) {
          const e = env[i] as Buffer;
          mem.setU32(ptrs + i * 4, at);
          mem.bytes(at, e.length).set(e);
          at += e.length;
        }
        return ERRNO_SUCCESS;
      } catch (e) {
        return errno(e);
      }
    },
    args_sizes_get(countPtr: number, sizePtr: number): number {
      try {
        mem.setU32(countPtr, 0);
        mem.setU32(sizePtr, 0);
        return ERRNO_SUCCESS;
      } catch (e) {
        return errno(e);
      }
    },
    args_get: () => ERRNO_SUCCESS,
    proc_exit(code: number): never {
      throw new ProcExit(`proc_exit(${code})`);
    },
  };
}
