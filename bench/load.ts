// HTTP/1.1 keep-alive load generator (undici Pool) with bounded latency sampling: closed loop (N workers, one
// request each at a time) or open loop at a fixed rate (`ratePerSec`), plus the wrapper that runs it in its own
// child process so it never shares an event loop with its target.
import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { z } from 'zod';

const loadOptionsSchema = z.strictObject({
  /** `http://127.x.y.z:port`; only loopback origins are accepted. */
  origin: z.string().regex(/^http:\/\/127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/),
  path: z.string().startsWith('/'),
  headers: z.record(z.string(), z.string()),
  connections: z.int().min(1).max(1024),
  warmupMs: z.int().min(0).max(60_000),
  durationMs: z.int().min(100).max(600_000),
  /** Open loop: requests/s sent on schedule whatever the responses do; absent: closed loop. */
  ratePerSec: z.int().min(1).max(200_000).optional(),
});
export type LoadOptions = z.infer<typeof loadOptionsSchema>;

export interface LoadResult {
  /** 2xx responses completed inside the measurement window. */
  readonly completed: number;
  /** Non-2xx responses and failed requests inside the measurement window. */
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly elapsedMs: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export type LoadPhase = 'measure' | 'stop';

/** At most this many latency samples are kept (reservoir sampling), whatever the request count. */
const MAX_SAMPLES = 100_000;
/** Per-request time bound; a stuck request counts as an error instead of stalling the run. */
const REQUEST_TIMEOUT_MS = 5_000;

class Reservoir {
  readonly #samples = new Float64Array(MAX_SAMPLES);
  #seen = 0;

  add(value: number): void {
    if (this.#seen < MAX_SAMPLES) this.#samples[this.#seen] = value;
    else {
      const slot = Math.floor(Math.random() * (this.#seen + 1));
      if (slot < MAX_SAMPLES) this.#samples[slot] = value;
    }
    this.#seen++;
  }

  /** Nearest-rank percentiles; NaN when nothing was sampled. */
  percentiles(ps: ReadonlyArray<number>): number[] {
    const n = Math.min(this.#seen, MAX_SAMPLES);
    if (n === 0) return ps.map(() => Number.NaN);
    const sorted = this.#samples.slice(0, n).sort();
    return ps.map((p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] ?? Number.NaN);
  }
}

/**
 * Runs `connections` workers, each issuing one GET at a time on a shared keep-alive Pool, for
 * `warmupMs` (not counted) then `durationMs` (counted). `onPhase` fires when measuring starts and stops.
 */
export async function runLoad(options: LoadOptions, onPhase?: (phase: LoadPhase) => void): Promise<LoadResult> {
  if (options.ratePerSec !== undefined) return runOpenLoop(options, options.ratePerSec, onPhase);
  const pool = new Pool(options.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    connectTimeout: 2_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  const latencies = new Reservoir();
  let phase: 'warmup' | LoadPhase = 'warmup';
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let measureStart = 0;
  let measureEnd = 0;

  const recordError = (message: string): void => {
    if (phase !== 'measure') return;
    errors++;
    firstError ??= message;
  };

  const worker = async (): Promise<void> => {
    while (phase !== 'stop') {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: options.path, method: 'GET', headers: options.headers });
        await res.body.dump({ limit: 1 << 20 });
        const ms = performance.now() - t0;
        if (res.statusCode < 200 || res.statusCode > 299) recordError(`HTTP ${res.statusCode}`);
        else if (phase === 'measure') {
          completed++;
          latencies.add(ms);
        }
      } catch (err) {
        recordError(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
        await sleep(5); // a refused or reset connection must not turn into a hot loop
      }
    }
  };

  const timer = setTimeout(() => {
    phase = 'measure';
    measureStart = performance.now();
    onPhase?.('measure');
    setTimeout(() => {
      phase = 'stop';
      measureEnd = performance.now();
      onPhase?.('stop');
    }, options.durationMs);
  }, options.warmupMs);

  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    clearTimeout(timer);
    await pool.destroy();
  }
  const elapsedMs = measureEnd - measureStart;
  const [p50Ms = Number.NaN, p99Ms = Number.NaN] = latencies.percentiles([0.5, 0.99]);
  return { completed, errors, firstError, elapsedMs, rps: elapsedMs > 0 ? (completed * 1000) / elapsedMs : 0, p50Ms, p99Ms };
}

/**
 * Open loop at `rate` requests/s over up to `connections` keep-alive connections: a 1 ms timer sends every
 * request due by then, so a slow response never delays the next send, and each latency counts from when
 * the request was due, not when a connection freed up (no coordinated omission). Requests beyond the
 * connections wait in the pool's queue, and that wait is part of their latency.
 */
async function runOpenLoop(options: LoadOptions, rate: number, onPhase?: (phase: LoadPhase) => void): Promise<LoadResult> {
  const pool = new Pool(options.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    connectTimeout: 2_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  const latencies = new Reservoir();
  const start = performance.now();
  const measureStart = start + options.warmupMs;
  const measureEnd = measureStart + options.durationMs;
  let sent = 0;
  let inFlight = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let measuring = false;
  const inWindow = (dueAt: number): boolean => dueAt >= measureStart && dueAt < measureEnd;

  const send = (dueAt: number): void => {
    inFlight++;
    pool.request({ path: options.path, method: 'GET', headers: options.headers }).then(
      async (res) => {
        await res.body.dump({ limit: 1 << 20 });
        const ms = performance.now() - dueAt;
        if (!inWindow(dueAt)) return;
        if (res.statusCode < 200 || res.statusCode > 299) {
          errors++;
          firstError ??= `HTTP ${res.statusCode}`;
        } else {
          completed++;
          latencies.add(ms);
        }
      },
      (err: unknown) => {
        if (!inWindow(dueAt)) return;
        errors++;
        firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      },
    ).finally(() => inFlight--);
  };

  await new Promise<void>((resolve) => {
    const interval = 1000 / rate;
    const timer = setInterval(() => {
      const now = performance.now();
      if (!measuring && now >= measureStart) {
        measuring = true;
        onPhase?.('measure');
      }
      const end = Math.min(now, measureEnd);
      while (start + sent * interval <= end) send(start + sent++ * interval);
      if (now >= measureEnd) {
        clearInterval(timer);
        onPhase?.('stop');
        resolve();
      }
    }, 1);
  });
  const settleBy = performance.now() + REQUEST_TIMEOUT_MS;
  while (inFlight > 0 && performance.now() < settleBy) await sleep(10);
  await pool.destroy();
  const [p50Ms = Number.NaN, p99Ms = Number.NaN] = latencies.percentiles([0.5, 0.99]);
  return { completed, errors, firstError, elapsedMs: options.durationMs, rps: (completed * 1000) / options.durationMs, p50Ms, p99Ms };
}

type ChildMessage = { readonly type: 'phase'; readonly phase: LoadPhase } | { readonly type: 'result'; readonly result: LoadResult };

function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null || !('type' in value)) return false;
  return (value.type === 'phase' && 'phase' in value) || (value.type === 'result' && 'result' in value);
}

export interface LoadChild {
  readonly child: ChildProcess;
  readonly result: Promise<LoadResult>;
}

/** Forks this module as a child running one `runLoad`; the child is killed if it overruns its time bound. */
export function runLoadInChild(options: LoadOptions, onPhase?: (phase: LoadPhase) => void): LoadChild {
  const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(options)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced', // keeps NaN percentiles intact
  });
  const result = new Promise<LoadResult>((resolve, reject) => {
    let settled: LoadResult | undefined;
    const deadline = setTimeout(() => child.kill('SIGKILL'), options.warmupMs + options.durationMs + REQUEST_TIMEOUT_MS + 10_000);
    child.on('message', (msg: unknown) => {
      if (!isChildMessage(msg)) return;
      if (msg.type === 'phase') onPhase?.(msg.phase);
      else settled = msg.result;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(deadline);
      if (settled !== undefined) resolve(settled);
      else reject(new Error(`load generator exited without a result (code ${String(code)}, signal ${String(signal)})`));
    });
  });
  return { child, result };
}

async function childMain(arg: string): Promise<void> {
  const options = loadOptionsSchema.parse(JSON.parse(arg));
  const orphaned = (): never => process.exit(1); // the parent is gone: stop generating load
  process.once('disconnect', orphaned);
  const result = await runLoad(options, (phase) => process.send?.({ type: 'phase', phase }));
  process.send?.({ type: 'result', result }, () => {
    process.off('disconnect', orphaned);
    process.disconnect();
  });
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href && process.send !== undefined) {
  childMain(process.argv[2] ?? '').catch((err: unknown) => {
    process.stderr.write(`load generator failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
