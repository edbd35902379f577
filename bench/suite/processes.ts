// Child-process bookkeeping for the bench suite: every process it starts is tracked and killed on exit,
// plus /proc readings (CPU time, peak RSS) of a process and its children, and free loopback ports.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const children = new Set<ChildProcess>();

export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => true), sleep(3_000).then(() => false)])) === false) child.kill('SIGKILL');
  await exited;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map(stopChild));
}

export function killAllSync(): void {
  for (const child of children) child.kill('SIGKILL');
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until something accepts TCP connections on host:port. */
export async function waitForPort(host: string, port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms`);
}

const attempt = <T>(fn: () => T, fallback: T): T => {
  try {
    return fn();
  } catch {
    return fallback;
  }
};
const CLK_TCK = attempt(() => Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100, 100);
const readProc = (file: string): string => attempt(() => readFileSync(file, 'utf8'), '');

/** Direct children of `pid` (the cluster primary's workers). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const task of attempt(() => readdirSync(`/proc/${pid}/task`), [] as string[])) {
    for (const c of readProc(`/proc/${pid}/task/${task}/children`).trim().split(/\s+/)) if (c !== '') out.push(Number(c));
  }
  return out;
}

/** `pid` and every descendant. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childPids(out[i] as number));
  return out;
}

/** utime + stime in ms of `pid` and its descendants (fields 14 and 15 of /proc/PID/stat, after `(comm)`). */
export function treeCpuMs(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    const stat = readProc(`/proc/${p}/stat`);
    if (stat === '') continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  }
  return total;
}

/** Peak resident set (VmHWM) in MiB, summed over `pid` and its descendants. */
export function treePeakRssMiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readProc(`/proc/${p}/status`));
    if (match?.[1] !== undefined) kib += Number(match[1]);
  }
  return kib / 1024;
}
