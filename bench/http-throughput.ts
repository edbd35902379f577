// Side-by-side HTTP/1.1 keep-alive throughput: one backend reached directly and through the waypoint (loopback only).
// Orchestrates the backend, waypoint and load-generator child processes, then prints a markdown table.
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { type LoadOptions, type LoadResult, runLoadInChild } from './load.js';

const BODY = `${'waypoint-bench '.repeat(6)}ok\n`.padEnd(100, '.'); // ~100 bytes
const ROUTE_HEADER = { name: 'x-bench-route', value: 'waypoint' } as const;
const REQUEST_PATH = '/bench/echo';
const SERVICE_PORT = 8080;
const ERROR_BUDGET = 0.01;

// ---- backend role: a plain node:http server in its own process, port reported over IPC ----

function backendMain(): void {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address !== null && typeof address === 'object') process.send?.({ port: address.port });
  });
  process.once('disconnect', () => process.exit(0));
}

// ---- process bookkeeping and cleanup ----

const children = new Set<ChildProcess>();
let tempDir: string | undefined;
let interrupted = false;

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => true), sleep(3_000).then(() => false)])) === false) child.kill('SIGKILL');
  await exited;
}

async function cleanup(): Promise<void> {
  await Promise.all([...children].map(stopChild));
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

function cleanupSync(): void {
  for (const child of children) child.kill('SIGKILL');
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
}

// ---- setup helpers ----

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startBackend(): Promise<number> {
  const child = track(fork(fileURLToPath(import.meta.url), ['--backend'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('backend did not report its port within 5 s')), 5_000);
    child.once('message', (msg: unknown) => {
      clearTimeout(timer);
      if (typeof msg === 'object' && msg !== null && 'port' in msg && typeof msg.port === 'number') resolve(msg.port);
      else reject(new Error('backend sent an unexpected message'));
    });
    child.once('exit', (code) => reject(new Error(`backend exited early (code ${String(code)})`)));
  });
}

function writeConfig(dir: string, vip: string, backendPort: number): void {
  const ns = 'bench';
  const docs: object[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio.io/use-waypoint': 'waypoint' } } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway',
      metadata: { name: 'waypoint', namespace: ns, labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'bench', namespace: ns },
      spec: { clusterIP: vip, ports: [{ name: 'http', port: SERVICE_PORT, targetPort: backendPort }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'bench-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'bench' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: backendPort }],
      endpoints: [{ addresses: ['127.0.0.1'], targetRef: { kind: 'Pod', name: 'bench-backend-0' } }],
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'bench', namespace: ns },
      spec: {
        parentRefs: [{ group: '', kind: 'Service', name: 'bench', port: SERVICE_PORT }],
        rules: [{
          matches: [{ path: { type: 'PathPrefix', value: '/bench' }, headers: [{ name: ROUTE_HEADER.name, value: ROUTE_HEADER.value }] }],
          backendRefs: [{ name: 'bench', port: SERVICE_PORT }],
        }],
      },
    },
  ];
  writeFileSync(path.join(dir, 'bench.yaml'), docs.map((d) => stringify(d)).join('---\n'));
}

interface Waypoint {
  readonly child: ChildProcess;
  readonly stderrTail: () => string;
}

async function startWaypoint(configDir: string): Promise<Waypoint> {
  const [admin, metrics, hbone] = [await freePort(), await freePort(), await freePort()];
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  const args = [main, 'run', '--config', configDir, '--admin-address', `127.0.0.1:${admin}`, '--metrics-address', `127.0.0.1:${metrics}`,
    '--hbone-address', `127.0.0.1:${hbone}`, '--drain-timeout', '1s', '--log-level', 'warn',
    // One worker: the CPU and RSS figures below read this one process (the suite measures 1 → N scaling).
    '--workers', process.env.BENCH_WORKERS ?? '1'];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(`[waypoint] ${chunk.toString()}`);
    tail = (tail + chunk.toString()).slice(-4_000);
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`waypoint exited during startup (code ${child.exitCode}):\n${tail}`);
    const status = await fetch(`http://127.0.0.1:${admin}/healthz/ready`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status, () => 0);
    if (status === 200) return { child, stderrTail: () => tail };
    await sleep(100);
  }
  throw new Error(`waypoint not ready within 10 s (http://127.0.0.1:${admin}/healthz/ready):\n${tail}`);
}

// ---- /proc sampling of the waypoint process ----

const attempt = <T>(fn: () => T, fallback: T): T => {
  try {
    return fn();
  } catch {
    return fallback;
  }
};
const CLK_TCK = attempt(() => Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100, 100);
/** The file's text, or '' once the process is gone (the values then read as NaN). */
const readProc = (file: string): string => attempt(() => readFileSync(file, 'utf8'), '');

/** utime + stime of `pid` in ms; fields 14 and 15 of /proc/PID/stat, counted after the `(comm)` field. */
function cpuMs(pid: number): number {
  const stat = readProc(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function peakRssKiB(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readProc(`/proc/${pid}/status`));
  return match?.[1] !== undefined ? Number(match[1]) : Number.NaN;
}

// ---- runs and report ----

interface Run {
  readonly target: 'direct' | 'waypoint';
  readonly result: LoadResult;
  readonly cpuMs: number | undefined;
}

async function measure(target: Run['target'], options: LoadOptions, sampledPid: number | undefined): Promise<Run> {
  let cpuStart = Number.NaN;
  let cpuEnd = Number.NaN;
  const load = runLoadInChild(options, (phase) => {
    if (sampledPid === undefined) return;
    if (phase === 'measure') cpuStart = cpuMs(sampledPid);
    else cpuEnd = cpuMs(sampledPid);
  });
  track(load.child);
  return { target, result: await load.result, cpuMs: sampledPid === undefined ? undefined : cpuEnd - cpuStart };
}

const fmt = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const errorRate = (r: LoadResult): number => (r.errors === 0 ? 0 : r.errors / (r.completed + r.errors));

function best(runs: ReadonlyArray<Run>, target: Run['target']): Run | undefined {
  return runs.filter((r) => r.target === target).sort((a, b) => b.result.rps - a.result.rps)[0];
}

function report(runs: ReadonlyArray<Run>, labels: Record<Run['target'], string>, waypointPid: number): void {
  const direct = best(runs, 'direct');
  const lines = ['| target | requests/s | p50 ms | p99 ms | errors | ratio vs direct |', '|---|---:|---:|---:|---:|---:|'];
  for (const target of ['direct', 'waypoint'] as const) {
    const run = best(runs, target);
    if (run === undefined) continue;
    const r = run.result;
    const ratio = direct !== undefined && direct.result.rps > 0 ? r.rps / direct.result.rps : Number.NaN;
    lines.push(`| ${labels[target]} | ${fmt(r.rps, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${r.errors} | ${fmt(ratio, 2)} |`);
  }
  const wp = runs.filter((r) => r.target === 'waypoint');
  const cpu = wp.reduce((s, r) => s + (r.cpuMs ?? 0), 0);
  const requests = wp.reduce((s, r) => s + r.result.completed + r.result.errors, 0);
  console.log(`\n${lines.join('\n')}\n`);
  console.log(`waypoint CPU: ${fmt(requests > 0 ? (cpu * 1000) / requests : Number.NaN, 1)} ms per 1000 requests (${fmt(cpu, 0)} ms over ${requests} requests, both waypoint runs)`);
  console.log(`waypoint peak RSS (VmHWM): ${fmt(peakRssKiB(waypointPid) / 1024, 1)} MiB`);
  console.log(`all runs (req/s): ${runs.map((r) => `${r.target} ${fmt(r.result.rps, 0)}`).join(', ')}`);
}

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return n;
}

async function main(): Promise<number> {
  const durationMs = Math.round(envNumber('BENCH_DURATION_S', 5, 0.5, 120) * 1000);
  const connections = Math.round(envNumber('BENCH_CONNECTIONS', 32, 1, 512));
  const vip = `127.77.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`; // avoids clashing with a parallel run
  const backendPort = await startBackend();
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'waypoint-bench-'));
  writeConfig(tempDir, vip, backendPort);
  const waypoint = await startWaypoint(tempDir);
  const pid = waypoint.child.pid;
  if (pid === undefined) throw new Error('waypoint has no pid');

  const headers = { [ROUTE_HEADER.name]: ROUTE_HEADER.value };
  const targets = { direct: `http://127.0.0.1:${backendPort}`, waypoint: `http://${vip}:${SERVICE_PORT}` } as const;
  const probe = await fetch(`${targets.waypoint}${REQUEST_PATH}`, { headers, signal: AbortSignal.timeout(5_000) });
  const probeBody = await probe.text();
  if (probe.status !== 200 || probeBody !== BODY) {
    console.error(`probe through the waypoint failed: HTTP ${probe.status}, body ${JSON.stringify(probeBody.slice(0, 200))}`);
    return 1;
  }
  const unmatched = await fetch(`${targets.waypoint}${REQUEST_PATH}`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, (e: unknown) => String(e));
  console.log(`waypoint ${vip}:${SERVICE_PORT} → backend 127.0.0.1:${backendPort}; route probe 200, request without ${ROUTE_HEADER.name} → ${unmatched}`);
  console.log(`${connections} keep-alive connections, 1 s warmup + ${durationMs / 1000} s per run, ${os.availableParallelism()} CPUs, node ${process.version}`);

  const runs: Run[] = [];
  for (const target of ['direct', 'waypoint', 'direct', 'waypoint'] as const) {
    const options: LoadOptions = { origin: targets[target], path: REQUEST_PATH, headers, connections, warmupMs: 1_000, durationMs };
    const run = await measure(target, options, target === 'waypoint' ? pid : undefined);
    runs.push(run);
    const r = run.result;
    console.log(`  ${target}: ${fmt(r.rps, 0)} req/s, ${r.completed} ok, ${r.errors} errors${r.firstError !== undefined ? ` (first: ${r.firstError})` : ''}`);
    if (waypoint.child.exitCode !== null || waypoint.child.signalCode !== null) {
      console.error(`waypoint exited during the ${target} run (code ${String(waypoint.child.exitCode)}, signal ${String(waypoint.child.signalCode)}):\n${waypoint.stderrTail()}`);
      return 1;
    }
  }
  report(runs, { direct: `direct (127.0.0.1:${backendPort})`, waypoint: `waypoint (${vip}:${SERVICE_PORT})` }, pid);

  let code = 0;
  for (const run of runs) {
    if (errorRate(run.result) > ERROR_BUDGET || run.result.completed === 0) {
      console.error(`FAIL: ${run.target} run had ${run.result.errors} errors / ${run.result.completed} ok (budget ${ERROR_BUDGET * 100}%); first error: ${run.result.firstError ?? 'none'}`);
      code = 1;
    }
  }
  return code;
}

if (process.argv[2] === '--backend') backendMain();
else {
  process.once('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      void cleanup().finally(() => process.exit(130));
    });
  }
  main().then(
    async (code) => {
      await cleanup();
      process.exitCode = code;
    },
    async (err: unknown) => {
      if (!interrupted) console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
      await cleanup();
      process.exitCode = 1;
    },
  );
}
