// Side-by-side gRPC unary calls/s: one @grpc/grpc-js backend reached directly and through the waypoint
// (GRPCRoute on a `grpc` Service port, HTTP/2 both hops), loopback only. Backend, waypoint and load
// generator run in separate processes; prints a markdown table.
import * as grpc from '@grpc/grpc-js';
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { echoClient, type EchoReply, type EchoRequest, EchoService } from '../test/harness/grpc-echo.js';

const SERVICE_PORT = 9000;
const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const CHANNELS = Number(process.env['BENCH_CHANNELS'] ?? 1);
const PAYLOAD = Buffer.alloc(Number(process.env['BENCH_PAYLOAD_BYTES'] ?? 100), 120);
const self = fileURLToPath(import.meta.url);

// ---- backend role: a grpc-js Echo server answering Unary immediately ----

function backendMain(): void {
  const server = new grpc.Server();
  server.addService(EchoService.service, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) =>
      cb(null, { message: call.request.message ?? '', payload: call.request.payload ?? Buffer.alloc(0), backend: 'bench', index: 0, metadata: {} }),
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err !== null) throw err;
    process.send?.({ port });
  });
  process.once('disconnect', () => process.exit(0));
}

// ---- load role: CONCURRENCY calls in flight over CHANNELS connections, closed loop ----

interface LoadResult {
  readonly calls: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function loadMain(address: string, port: number): Promise<void> {
  const clients = [...Array(CHANNELS).keys()].map(() => echoClient(address, port));
  let measuring = false;
  let calls = 0;
  let errors = 0;
  const samples: number[] = [];
  let stop = false;
  const one = (client: ReturnType<typeof echoClient>): Promise<void> => new Promise((resolve) => {
    const start = performance.now();
    client.Unary({ message: 'bench', payload: PAYLOAD }, new grpc.Metadata(), {}, (err) => {
      if (measuring) {
        if (err === null) calls++;
        else errors++;
        if (samples.length < 200_000) samples.push(performance.now() - start);
      }
      resolve();
    });
  });
  const worker = async (i: number): Promise<void> => {
    const client = clients[i % clients.length] as ReturnType<typeof echoClient>;
    while (!stop) await one(client);
  };
  const workers = [...Array(CONCURRENCY).keys()].map(worker);
  await sleep(1000);
  measuring = true;
  const t0 = performance.now();
  await sleep(DURATION_S * 1000);
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(workers);
  for (const c of clients) c.close();
  samples.sort((a, b) => a - b);
  const pct = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] ?? Number.NaN;
  const result: LoadResult = { calls, errors, seconds, p50Ms: pct(0.5), p99Ms: pct(0.99) };
  process.send?.(result);
  process.exit(0);
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
  for (const c of children) c.kill('SIGKILL');
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
}

function message<T>(child: ChildProcess, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited early (code ${String(code)})`)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function writeConfig(dir: string, vip: string, backendPort: number): void {
  const ns = 'bench';
  const docs: object[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio.io/use-waypoint': 'waypoint' } } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: ns }, spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: ns }, spec: { clusterIP: vip, ports: [{ name: 'grpc', port: SERVICE_PORT, targetPort: backendPort }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'echo-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'echo' } },
      addressType: 'IPv4', ports: [{ name: 'grpc', port: backendPort }], endpoints: [{ addresses: ['127.0.0.1'] }],
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'echo', namespace: ns },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'echo', port: SERVICE_PORT }], rules: [{ matches: [{ method: { service: 'waypoint.test.Echo', method: 'Unary' } }], backendRefs: [{ name: 'echo', port: SERVICE_PORT }] }] },
    },
  ];
  writeFileSync(path.join(dir, 'bench.yaml'), docs.map((d) => stringify(d)).join('---\n'));
}

async function startWaypoint(configDir: string): Promise<ChildProcess> {
  const [admin, metrics, hbone] = [await freePort(), await freePort(), await freePort()];
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  const child = track(spawn(process.execPath, [main, 'run', '--config', configDir, '--admin-address', `127.0.0.1:${admin}`, '--metrics-address', `127.0.0.1:${metrics}`,
    '--hbone-address', `127.0.0.1:${hbone}`, '--drain-timeout', '1s', '--log-level', 'warn', '--no-watch'], { stdio: ['ignore', 'ignore', 'inherit'] }));
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) {
    if (child.exitCode !== null) throw new Error(`waypoint exited during startup (code ${child.exitCode})`);
    const status = await fetch(`http://127.0.0.1:${admin}/healthz/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status, () => 0);
    if (status === 200) return child;
  }
  throw new Error('waypoint not ready within 10 s');
}

async function measure(address: string, port: number): Promise<LoadResult> {
  const child = track(fork(self, ['--load', address, String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return message<LoadResult>(child, 'load generator', (DURATION_S + 30) * 1000);
}

async function main(): Promise<void> {
  const backend = track(fork(self, ['--backend'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const { port: backendPort } = await message<{ port: number }>(backend, 'backend', 5000);
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'waypoint-grpc-bench-'));
  const vip = `127.78.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  writeConfig(tempDir, vip, backendPort);
  await startWaypoint(tempDir);
  const runs: Array<{ target: string; r: LoadResult }> = [];
  for (const target of ['direct', 'waypoint', 'direct', 'waypoint'] as const) {
    const r = target === 'direct' ? await measure('127.0.0.1', backendPort) : await measure(vip, SERVICE_PORT);
    runs.push({ target, r });
    process.stderr.write(`${target}: ${(r.calls / r.seconds).toFixed(0)} calls/s, ${r.errors} errors\n`);
  }
  const best = (t: string): LoadResult | undefined => runs.filter((x) => x.target === t).map((x) => x.r).sort((a, b) => b.calls / b.seconds - a.calls / a.seconds)[0];
  console.log(`\ngRPC unary, ${CONCURRENCY} calls in flight over ${CHANNELS} HTTP/2 connection(s), ${PAYLOAD.length}-byte payload, ${DURATION_S} s per run (best of 2), node ${process.version}, ${os.cpus().length} CPUs\n`);
  console.log('| target | calls/s | p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|');
  for (const t of ['direct', 'waypoint']) {
    const r = best(t);
    if (r !== undefined) console.log(`| ${t} | ${(r.calls / r.seconds).toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`);
  }
}

const role = process.argv[2];
if (role === '--backend') backendMain();
else if (role === '--load') void loadMain(process.argv[3] ?? '127.0.0.1', Number(process.argv[4]));
else {
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  main().then(() => cleanup(), (err: unknown) => {
    console.error(err);
    cleanup();
    process.exitCode = 1;
  });
}
