// Closed-loop max throughput with wrk (one thread, N keep-alive connections) and h2load (h2c), parsed
// from their text output.
import { execFile } from 'node:child_process';

export interface WrkResult {
  readonly rps: number;
  readonly requests: number;
  /** Non-2xx/3xx responses plus socket errors. */
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface WrkOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly durationS: number;
  readonly threads?: number;
}

function run(cmd: string, args: ReadonlyArray<string>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `1.23ms`, `456.00us`, `1.02s`, `2.00m` → ms. */
function durationMs(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  if (m === null) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads ?? 1}`, `-c${o.connections}`, `-d${o.durationS}s`, '--latency', '--timeout', '5s'];
  for (const [k, v] of Object.entries(o.headers)) args.push('-H', `${k}: ${v}`);
  args.push(o.url);
  const out = await run('wrk', args, (o.durationS + 30) * 1000);
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? Number.NaN);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sockErr = socketErrors === null ? 0 : socketErrors.slice(1).reduce((s, v) => s + Number(v), 0);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    errors: sockErr + (Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)),
    p50Ms: durationMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
    p99Ms: durationMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
  };
}

/** h2c (prior knowledge) closed loop: `clients` connections × `streams` concurrent streams. */
export async function runH2load(o: { readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly clients: number; readonly streams: number; readonly durationS: number }): Promise<{ readonly rps: number; readonly errors: number }> {
  const args = ['-c', String(o.clients), '-m', String(o.streams), '-D', String(o.durationS), '--warm-up-time=1'];
  for (const [k, v] of Object.entries(o.headers)) args.push('-H', `${k}: ${v}`);
  args.push(o.url);
  const out = await run('h2load', args, (o.durationS + 30) * 1000);
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(out)?.[1] ?? Number.NaN);
  const m = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const errors = (m === null ? 0 : Number(m[2]) + Number(m[3])) + (status === null ? 0 : Number(status[3]) + Number(status[4]));
  return { rps, errors };
}
