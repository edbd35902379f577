// One fixed-rate (open-loop) measurement: the load generator (bench/load.ts) in its own process at `rate`
// requests/s, while the proxy's CPU time (its whole process tree, from /proc) is sampled over the window.
import { type LoadResult, runLoadInChild } from '../load.js';
import { track, treeCpuMs } from './processes.js';

export interface FixedRateResult {
  readonly load: LoadResult;
  /** Proxy CPU ms per 1000 requests (= vCPU seconds per 1000 req/s ÷ 1000); undefined without a pid. */
  readonly cpuMsPer1000: number | undefined;
}

export async function measureFixedRate(origin: string, path: string, headers: Readonly<Record<string, string>>, rate: number, durationMs: number, pid: number | undefined): Promise<FixedRateResult> {
  let cpuStart = Number.NaN;
  let cpuEnd = Number.NaN;
  const load = runLoadInChild({ origin, path, headers: { ...headers }, connections: 32, warmupMs: 1_000, durationMs, ratePerSec: rate }, (phase) => {
    if (pid === undefined) return;
    if (phase === 'measure') cpuStart = treeCpuMs(pid);
    else cpuEnd = treeCpuMs(pid);
  });
  track(load.child);
  const result = await load.result;
  const requests = result.completed + result.errors;
  return { load: result, cpuMsPer1000: pid === undefined || requests === 0 ? undefined : ((cpuEnd - cpuStart) * 1000) / requests };
}
