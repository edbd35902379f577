// Logging (proxy_log, proxy_get_log_level), time, and the root context's tick period.
import { LogLevel, Status } from '../abi.js';
import type { PluginVm } from '../plugin-vm.js';
import { fault, type HostFunctions } from './guard.js';

const WAYPOINT_TO_ABI = { debug: LogLevel.Debug, info: LogLevel.Info, warn: LogLevel.Warn, error: LogLevel.Error } as const;

export function logTimeImports(vm: PluginVm): HostFunctions {
  const mem = vm.memory;
  const log = vm.services.log;
  const plugin = vm.identity.key;
  return {
    proxy_log(level: number, mp: number, ml: number): number {
      try {
        // Decode only what the logger will print: SDKs log a lot at debug.
        if (level < WAYPOINT_TO_ABI[log.level]) return Status.Ok;
        const message = mem.string(mp, ml);
        const fields = { plugin, context: vm.effective.id };
        if (level <= LogLevel.Debug) log.debug(message, fields);
        else if (level === LogLevel.Info) log.info(message, fields);
        else if (level === LogLevel.Warn) log.warn(message, fields);
        else log.error(message, fields);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_get_log_level(ptr: number): number {
      try {
        mem.setU32(ptr, WAYPOINT_TO_ABI[log.level]);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_get_current_time_nanoseconds(ptr: number): number {
      try {
        mem.setU64(ptr, BigInt(Date.now()) * 1_000_000n);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_set_tick_period_milliseconds(ms: number): number {
      if (vm.effective !== vm.root) return Status.BadArgument;
      vm.root.setTickPeriod(ms >>> 0);
      return Status.Ok;
    },
  };
}
