// What Istio metrics, access logging and tracing cost per request. Two measurements:
//  1. in-process: TelemetryRuntime.onExchange on a finished exchange, ns per request, per configuration;
//  2. end to end: the waypoint as its own process under closed-loop HTTP/1.1 load, requests/s and waypoint
//     CPU per 1000 requests, with telemetry off, metrics only, metrics + access log, and + tracing (100%).
// Loopback only; every child process is stopped on exit.
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { compile } from '../src/config/compile/index.js';
import { meshConfig } from '../src/config/model/mesh-config.js';
import { parseConfigText } from '../src/config/source/yaml-documents.js';
import { HeaderList } from '../src/http/header-list.js';
import { silentLogger } from '../src/observability/logger.js';
import { TelemetryRuntime } from '../src/observability/telemetry-runtime.js';
import type { HttpExchange } from '../src/proxy/http-exchange.js';
import { type LoadResult, runLoadInChild } from './load.js';

const BODY = 'x'.repeat(100);
const PORT = 8080;

interface Variant {
  readonly name: string;
  /** Extra config documents (Telemetry) and MeshConfig text. */
  readonly telemetry: string;
  readonly mesh: (dir: string, otlpPort: number) => string;
}

const METRICS_OFF = `---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: off, namespace: bench }
spec:
  metrics: [{ overrides: [{ disabled: true }] }]
`;
const TRACING = `---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: tracing, namespace: bench }
spec:
  tracing: [{ providers: [{ name: otel }], randomSamplingPercentage: 100 }]
`;
const otel = (port: number): string => `extensionProviders: [{ name: otel, opentelemetry: { service: 127.0.0.1, port: ${port}, http: { path: /v1/traces } } }]\n`;

const VARIANTS: ReadonlyArray<Variant> = [
  { name: 'telemetry off', telemetry: METRICS_OFF, mesh: () => '' },
  { name: 'Istio metrics (default)', telemetry: '', mesh: () => '' },
  { name: 'metrics + access log (file)', telemetry: '', mesh: (dir) => `accessLogFile: ${path.join(dir, 'access.log')}\n` },
  { name: 'metrics + log + tracing 100%', telemetry: TRACING, mesh: (dir, p) => `accessLogFile: ${path.join(dir, 'access.log')}\n${otel(p)}` },
];

function configYaml(vip: string, backendPort: number, extra: string): string {
  return `apiVersion: v1
kind: Namespace
metadata: { name: bench, labels: { istio.io/use-waypoint: waypoint } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: waypoint, namespace: bench }
spec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }
---
apiVersion: v1
kind: Service
metadata: { name: bench, namespace: bench }
spec: { clusterIP: ${vip}, ports: [{ name: http, port: ${PORT}, targetPort: ${backendPort} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: bench-1, namespace: bench, labels: { kubernetes.io/service-name: bench } }
addressType: IPv4
ports: [{ name: http, port: ${backendPort} }]
endpoints: [{ addresses: [127.0.0.1], targetRef: { kind: Pod, name: bench-0 } }]
${extra}`;
}

// ---- 1. in-process cost of onExchange ----

function fakeExchange(snapshot: NonNullable<ReturnType<typeof compileSnapshot>>, socket: { bytesRead: number; bytesWritten: number }): HttpExchange {
  const listener = [...snapshot.listeners.values()][0];
  const cluster = [...snapshot.clusters.values()].find((c) => c.service === 'bench/bench');
  const conn = { listenerKey: listener?.key ?? '', remoteAddress: '127.0.0.1', remotePort: 40000, sourceNamespace: undefined, peerPrincipal: undefined };
  const rawHeaders = ['Host', 'bench', 'User-Agent', 'bench/1', 'Accept', '*/*'];
  return {
    snapshot, listener, conn,
    req: { socket, headers: { host: 'bench' }, rawHeaders, method: 'GET', url: '/bench', httpVersion: '1.1' },
    res: {},
    startMs: performance.now(),
    method: 'GET', path: '/bench', requestHeaders: new HeaderList(['host', 'bench', 'user-agent', 'bench/1', 'x-request-id', 'a6f1c2d4-0000-4000-8000-000000000000']),
    routeName: 'default', clusterId: cluster?.id, upstreamHost: cluster?.endpoints[0]?.key, status: 200, flag: undefined, details: 'via_upstream',
    responseBodyBytes: 100, upstreamServiceTimeMs: 1, grpcStatus: undefined, grpcMessages: undefined, trace: undefined,
  } as unknown as HttpExchange;
}

function compileSnapshot(extra: string, mesh: string) {
  const parsed = parseConfigText(configYaml('127.77.0.1', 9, extra), 'bench.yaml', 0);
  const r = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1, mesh: meshConfig.parse(mesh === '' ? {} : parseYamlObject(mesh)) });
  if (!r.ok) throw new Error('bench config does not compile');
  return r.snapshot;
}

function parseYamlObject(text: string): Record<string, unknown> {
  return parse(text) as Record<string, unknown>;
}

async function inProcess(dir: string): Promise<string[]> {
  const rows: string[] = [];
  const n = 200_000;
  for (const v of VARIANTS.slice(0, 3)) {
    const snapshot = compileSnapshot(v.telemetry, v.mesh(dir, 0).replace(path.join(dir, 'access.log'), '/dev/null'));
    const runtime = new TelemetryRuntime({ log: silentLogger, buildTag: 'bench' });
    runtime.reconcile(snapshot);
    const socket = { bytesRead: 0, bytesWritten: 0 };
    const ex = fakeExchange(snapshot, socket);
    // Yields every 1000 requests, as a server does between socket events, so the log file drains.
    const run = async (count: number): Promise<number> => {
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        socket.bytesRead += 120;
        socket.bytesWritten += 260;
        runtime.onExchange(ex);
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
      }
      return performance.now() - start;
    };
    await run(20_000); // warm up the JIT
    await sleep(10);
    const ms = await run(n);
    rows.push(`| ${v.name} | ${((ms * 1e6) / n).toFixed(0)} |`);
    await runtime.close();
  }
  return rows;
}

// ---- 2. end to end ----

const children = new Set<ChildProcess>();
const track = <T extends ChildProcess>(c: T): T => {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
};

function backendMain(): void {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
      res.end(BODY);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    if (a !== null && typeof a === 'object') process.send?.({ port: a.port });
  });
  process.once('disconnect', () => process.exit(0));
}

/** Accepts OTLP exports and discards them (the bench measures the waypoint, not a collector). */
function sinkMain(): void {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    if (a !== null && typeof a === 'object') process.send?.({ port: a.port });
  });
  process.once('disconnect', () => process.exit(0));
}

async function forkRole(role: string): Promise<number> {
  const child = track(fork(fileURLToPath(import.meta.url), [role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return new Promise((resolve, reject) => {
    child.once('message', (m: unknown) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${role} exited (${String(code)})`)));
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

async function startWaypoint(configDir: string, meshFile: string): Promise<ChildProcess> {
  const [admin, metrics] = [await freePort(), await freePort()];
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
  const child = track(spawn(process.execPath, [main, 'run', '--config', configDir, '--mesh-config', meshFile, '--admin-address', `127.0.0.1:${admin}`,
    // One process: the CPU read from /proc is the serving process's own (`run` defaults to one worker per core).
    '--metrics-address', `127.0.0.1:${metrics}`, '--log-level', 'error', '--no-watch', '--workers', '1'], { stdio: ['ignore', 'ignore', 'inherit'] }));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await fetch(`http://127.0.0.1:${admin}/healthz/ready`).then((r) => r.status, () => 0)) === 200) return child;
    await sleep(100);
  }
  throw new Error('waypoint not ready within 10 s');
}

interface Measured {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuPer1000: number;
  readonly errors: number;
}

/** Runs every variant `rounds` times, interleaved, and keeps each variant's lowest-CPU run (the least disturbed). */
async function endToEnd(dir: string, durationMs: number, connections: number, rounds: number): Promise<string[]> {
  const backendPort = await forkRole('--backend');
  const sinkPort = await forkRole('--otlp-sink');
  const best = new Map<string, Measured>();
  for (let round = 0; round < rounds; round++) {
    for (const v of VARIANTS) {
      const m = await measureVariant(v, dir, backendPort, sinkPort, durationMs, connections);
      const prev = best.get(v.name);
      if (prev === undefined || m.cpuPer1000 < prev.cpuPer1000) best.set(v.name, m);
    }
  }
  return VARIANTS.map((v) => {
    const m = best.get(v.name) as Measured;
    return `| ${v.name} | ${m.rps.toFixed(0)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.cpuPer1000.toFixed(1)} | ${m.errors} |`;
  });
}

async function measureVariant(v: Variant, dir: string, backendPort: number, sinkPort: number, durationMs: number, connections: number): Promise<Measured> {
  {
    const vip = `127.78.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
    const configDir = path.join(dir, v.name.replace(/\W+/g, '-'));
    const meshFile = path.join(dir, `${path.basename(configDir)}.mesh.yaml`);
    rmSync(configDir, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', configDir]);
    writeFileSync(path.join(configDir, 'bench.yaml'), configYaml(vip, backendPort, v.telemetry));
    // The istio ConfigMap form: `waypoint run` also reads --mesh-config as a config source.
    const mesh = (v.mesh(dir, sinkPort) || '{}\n').split('\n').map((l) => `    ${l}`).join('\n');
    writeFileSync(meshFile, `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio, namespace: istio-system }\ndata:\n  mesh: |\n${mesh}\n`);
    const wp = await startWaypoint(configDir, meshFile);
    const pid = wp.pid ?? 0;
    let cpuStart = 0;
    let cpuEnd = 0;
    const load = runLoadInChild({ origin: `http://${vip}:${PORT}`, path: '/bench', headers: {}, connections, warmupMs: 1000, durationMs }, (phase) => {
      if (phase === 'measure') cpuStart = cpuMs(pid);
      else cpuEnd = cpuMs(pid);
    });
    track(load.child);
    const r: LoadResult = await load.result;
    const requests = r.completed + r.errors;
    wp.kill('SIGTERM');
    await new Promise((res) => wp.once('exit', res));
    return { rps: r.rps, p50: r.p50Ms, p99: r.p99Ms, cpuPer1000: ((cpuEnd - cpuStart) * 1000) / Math.max(1, requests), errors: r.errors };
  }
}

async function main(): Promise<void> {
  const durationMs = Math.round(Number(process.env['BENCH_DURATION_S'] ?? '3') * 1000);
  const connections = Number(process.env['BENCH_CONNECTIONS'] ?? '16');
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? '2');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'waypoint-metrics-cost-'));
  try {
    console.log(`node ${process.version}, ${os.availableParallelism()} CPUs; ${connections} connections, 1 s warmup + ${durationMs / 1000} s per run, best of ${rounds} interleaved rounds\n`);
    console.log('In-process: TelemetryRuntime.onExchange for one finished request (metrics lookup + record, access log line)\n');
    console.log('| configuration | ns per request |\n|---|---:|');
    for (const row of await inProcess(dir)) console.log(row);
    console.log('\nEnd to end: waypoint process under load (access log to a file, spans to a local OTLP sink)\n');
    console.log('| configuration | requests/s | p50 ms | p99 ms | waypoint CPU ms / 1000 req | errors |\n|---|---:|---:|---:|---:|---:|');
    for (const row of await endToEnd(dir, durationMs, connections, rounds)) console.log(row);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--backend') backendMain();
else if (process.argv[2] === '--otlp-sink') sinkMain();
else {
  main().then(() => process.exit(0), (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  });
}
