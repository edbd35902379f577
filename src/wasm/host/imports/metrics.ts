// Metrics: define (counter, gauge, histogram), increment, record, get, in this VM id's scope.
import { Status } from '../abi.js';
import type { PluginVm } from '../plugin-vm.js';
import type { MetricResult } from '../plugin-metrics.js';
import { fault, type HostFunctions } from './guard.js';

function status(r: MetricResult): number {
  return r === 'ok' ? Status.Ok : r === 'not-found' ? Status.NotFound : Status.BadArgument;
}

export function metricImports(vm: PluginVm): HostFunctions {
  const mem = vm.memory;
  const metrics = vm.services.metrics;
  return {
    proxy_define_metric(type: number, np: number, nl: number, idPtr: number): number {
      try {
        const id = metrics.define(type, mem.string(np, nl));
        if (id === undefined) return Status.BadArgument;
        mem.setU32(idPtr, id);
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
    proxy_increment_metric(id: number, delta: bigint): number {
      return status(metrics.increment(id >>> 0, Number(delta)));
    },
    proxy_record_metric(id: number, value: bigint): number {
      return status(metrics.record(id >>> 0, Number(BigInt.asUintN(64, value))));
    },
    proxy_get_metric(id: number, ptr: number): number {
      try {
        const v = metrics.get(id >>> 0);
        if (v === undefined) return Status.NotFound;
        mem.setU64(ptr, BigInt(Math.trunc(v)));
        return Status.Ok;
      } catch (e) {
        return fault(e);
      }
    },
  };
}
