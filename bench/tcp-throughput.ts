// Side-by-side TCP benchmark (loopback only): download and upload MB/s and new connections/s to one TCP
// backend reached directly and through the waypoint (a TCPRoute on a `tcp` Service port). One file, three
// roles: the orchestrator (default), `--backend` and `--load`, each its own process so none shares an event loop.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const SERVICE_PORT = 9000;
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);
type Mode = 'download' | 'upload' | 'connect';
const MODES: ReadonlyArray<Mode> = ['download', 'upload', 'connect'];

// ---- backend role: the first byte picks the behaviour ----
// 'D' streams until the client goes away; 'U' discards everything; 'P' answers one byte and closes first
// (the backend closing first keeps TIME_WAIT off the client's ephemeral ports).

function backendMain(): void {
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on('error', () => undefined);
    s.once('data', (first: Buffer) => {
      const mode = first[0];
      if (mode === 0x50 /* P */) return void s.end('p');
      if (mode === 0x55 /* U */) return void s.resume();
      const pump = (): void => {
        while (!s.destroyed) if (!s.write(CHUNK)) return void s.once('drain', pump);
      };
      pump();
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as net.AddressInfo).port }));
  process.once('disconnect', () => process.exit(0));
}

// ---- load role: closed loop for one mode against one target, result over IPC ----

interface LoadArgs {
  readonly host: string;
  readonly port: number;
  readonly mode: Mode;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

interface LoadResult {
  /** Bytes moved (download/upload) or connections completed (connect) inside the measured window. */
  readonly amount: number;
  readonly errors: number;
  readonly elapsedMs: number;
}

async function loadMain(args: LoadArgs): Promise<LoadResult> {
  let counting = false;
  let amount = 0;
  let errors = 0;
  let stop = false;
  const sockets = new Set<net.Socket>();
  const open = (first: string): net.Socket => {
    const s = net.connect({ host: args.host, port: args.port, noDelay: true });
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => {
      if (counting) errors++;
    });
    s.write(first);
    return s;
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < args.connections; i++) {
    if (args.mode === 'download') {
      open('D').on('data', (c: Buffer) => {
        if (counting) amount += c.length;
      });
    } else if (args.mode === 'upload') {
      const s = open('U');
      const done = (): void => {
        if (counting) amount += CHUNK.length;
      };
      const pump = (): void => {
        while (!stop && !s.destroyed) if (!s.write(CHUNK, done)) return void s.once('drain', pump);
      };
      s.once('connect', pump);
    } else {
      workers.push((async () => {
        while (!stop) {
          const ok = await new Promise<boolean>((resolve) => {
            const s = open('P');
            let got = false;
            s.on('data', () => (got = true));
            s.once('end', () => s.end());
            s.once('close', () => resolve(got));
          });
          if (counting) ok ? amount++ : errors++;
        }
      })());
    }
  }
  await sleep(args.warmupMs);
  counting = true;
  const start = performance.now();
  await sleep(args.durationMs);
  counting = false;
  const elapsedMs = performance.now() - start;
  stop = true;
  for (const s of sockets) s.destroy();
  await Promise.all(workers);
  return { amount, errors, elapsedMs };
}

// ---- orchestration ----

const children = new Set<ChildProcess>();
let tempDir: string | undefined;

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function cleanup(): void {
  for (const child of children) child.kill('SIGKILL');
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

function forkRole(args: string[]): ChildProcess {
  return track(fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}

function firstMessage<T>(child: ChildProcess, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited (code ${String(code)})`)));
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function writeConfig(dir: string, vip: string, backendPort: number): void {
  const ns = 'bench';
  const docs: object[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio.io/use-waypoint': 'waypoint' } } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: ns },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bench-tcp', namespace: ns }, spec: { clusterIP: vip, ports: [{ name: 'tcp', port: SERVICE_PORT, targetPort: backendPort }] } },
    // The backend Service has no VIP: it is reached only through the route.
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bench-backend', namespace: ns }, spec: { ports: [{ name: 'tcp', port: SERVICE_PORT, targetPort: backendPort }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'bench-backend-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'bench-backend' } },
      addressType: 'IPv4', ports: [{ name: 'tcp', port: backendPort }], endpoints: [{ addresses: ['127.0.0.1'] }],
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1alpha2', kind: 'TCPRoute', metadata: { name: 'bench', namespace: ns },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'bench-tcp', port: SERVICE_PORT }], rules: [{ backendRefs: [{ name: 'bench-backend', port: SERVICE_PORT }] }] },
    },
  ];
  writeFileSync(path.join(dir, 'bench.yaml'), docs.map((d) => stringify(d)).join('---\n'));
}

async function startWaypoint(configDir: string): Promise<ChildProcess> {
  const [admin, metrics, hbone] = [await freePort(), await freePort(), await freePort()];
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  const child = track(spawn(process.execPath, [main, 'run', '--config', configDir, '--admin-address', `127.0.0.1:${admin}`,
    '--metrics-address', `127.0.0.1:${metrics}`, '--hbone-address', `127.0.0.1:${hbone}`, '--log-level', 'warn', '--no-watch'], { stdio: ['ignore', 'ignore', 'inherit'] }));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`waypoint exited during startup (code ${child.exitCode})`);
    const status = await fetch(`http://127.0.0.1:${admin}/healthz/ready`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status, () => 0);
    if (status === 200) return child;
    await sleep(100);
  }
  throw new Error('waypoint not ready within 10 s');
}

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return n;
}

const fmt = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function orchestrate(): Promise<number> {
  const durationMs = Math.round(envNumber('BENCH_DURATION_S', 3, 0.5, 60) * 1000);
  const streams = Math.round(envNumber('BENCH_STREAMS', 4, 1, 64));
  const connectors = Math.round(envNumber('BENCH_CONNECTORS', 16, 1, 256));
  const backend = forkRole(['--backend']);
  const { port: backendPort } = await firstMessage<{ port: number }>(backend, 'backend', 5_000);
  const vip = `127.78.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'waypoint-tcp-bench-'));
  writeConfig(tempDir, vip, backendPort);
  const waypoint = await startWaypoint(tempDir);
  const targets = { direct: { host: '127.0.0.1', port: backendPort }, waypoint: { host: vip, port: SERVICE_PORT } } as const;
  console.log(`waypoint ${vip}:${SERVICE_PORT} (TCPRoute) → backend 127.0.0.1:${backendPort}`);
  console.log(`${streams} streams for MB/s, ${connectors} closed-loop connectors for connections/s; 1 s warmup + ${durationMs / 1000} s per run; best of 2 runs; ${os.availableParallelism()} CPUs, node ${process.version}`);

  const best: Record<string, number> = {};
  let failed = false;
  for (const mode of MODES) {
    for (const target of ['direct', 'waypoint', 'direct', 'waypoint'] as const) {
      const args: LoadArgs = { ...targets[target], mode, connections: mode === 'connect' ? connectors : streams, warmupMs: 1_000, durationMs };
      const load = forkRole(['--load', JSON.stringify(args)]);
      const r = await firstMessage<LoadResult>(load, `${mode} load`, durationMs + 30_000);
      const rate = mode === 'connect' ? r.amount / (r.elapsedMs / 1000) : r.amount / (1024 * 1024) / (r.elapsedMs / 1000);
      const key = `${mode}/${target}`;
      best[key] = Math.max(best[key] ?? 0, rate);
      console.log(`  ${mode} ${target}: ${fmt(rate, mode === 'connect' ? 0 : 1)} ${mode === 'connect' ? 'conn/s' : 'MiB/s'}${r.errors > 0 ? `, ${r.errors} errors` : ''}`);
      if (r.errors > 0 && mode !== 'connect') failed = true;
      if (mode === 'connect' && r.errors > r.amount / 100) failed = true;
      if (waypoint.exitCode !== null) throw new Error('the waypoint exited during the run');
    }
  }
  const row = (mode: Mode, unit: string, digits: number): string => {
    const d = best[`${mode}/direct`] ?? Number.NaN;
    const w = best[`${mode}/waypoint`] ?? Number.NaN;
    return `| ${mode} ${unit} | ${fmt(d, digits)} | ${fmt(w, digits)} | ${fmt(w / d, 2)} |`;
  };
  console.log(['', '| measure | direct | waypoint | ratio |', '|---|---:|---:|---:|',
    row('download', 'MiB/s', 1), row('upload', 'MiB/s', 1), row('connect', 'connections/s', 0), ''].join('\n'));
  return failed ? 1 : 0;
}

if (process.argv[2] === '--backend') backendMain();
else if (process.argv[2] === '--load') {
  loadMain(JSON.parse(process.argv[3] ?? '{}') as LoadArgs).then((r) => process.send?.(r, () => process.exit(0)), (e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  orchestrate().then((code) => {
    cleanup();
    process.exitCode = code;
  }, (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    cleanup();
    process.exitCode = 1;
  });
}
