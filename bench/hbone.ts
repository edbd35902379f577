// HTTP/1.1 through the waypoint four ways, side by side in one run: plain VIP traffic, inside HBONE inbound
// (client tunnel → waypoint), HBONE outbound (waypoint → tunnel to an ambient pod) and both. Reports
// requests/s, latency and the waypoint's CPU per 1000 requests (loopback only, every role its own process).
// Standalone: `npm run build && node dist/bench/hbone.js` (BENCH_DURATION_S, BENCH_CONNECTIONS); suites can
// import `runHboneBench` instead (importing runs nothing).
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2, { type ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { buffersOnly } from '../src/hbone/buffer-writes.js';
import { createRootCa, issueSvid, type PemPair } from '../src/security/certs/dev-ca.js';
import { treeCpuMs } from './suite/processes.js';

const SELF = fileURLToPath(import.meta.url);
const BODY = `${'hbone-bench '.repeat(8)}ok\n`.padEnd(100, '.');
const PORT = 8080;
/** `--workers` for the waypoint (BENCH_WORKERS); its own default when unset. CPU counts every worker. */
const WORKERS = process.env['BENCH_WORKERS'];
type Scenario = 'plain' | 'hbone-in' | 'hbone-out' | 'hbone-in+out';
const SCENARIOS: ReadonlyArray<Scenario> = ['plain', 'hbone-in', 'hbone-out', 'hbone-in+out'];

interface LoadSpec {
  readonly scenario: Scenario;
  /** Where requests go: the Service VIP:port (plain) or the CONNECT authority (through the waypoint's HBONE port). */
  readonly vip: string;
  readonly hbone: { readonly port: number; readonly certPem: string; readonly keyPem: string; readonly caPem: string } | undefined;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

interface LoadResult {
  readonly completed: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

// ---- child roles ----

function backendMain(): void {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY) });
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as net.AddressInfo).port }));
  process.once('disconnect', () => process.exit(0));
}

/** The ambient pod's ztunnel: terminates HBONE (mTLS, CONNECT) and pipes to 127.0.0.1:<authority port>. */
function destinationMain(arg: string): void {
  const o = JSON.parse(arg) as { host: string; port: number; certPem: string; keyPem: string; caPem: string };
  const server = http2.createSecureServer({ cert: o.certPem, key: o.keyPem, ca: o.caPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', ALPNProtocols: ['h2'] });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const authority = String(headers[':authority']);
    const upstream = net.connect({ host: '127.0.0.1', port: Number(authority.slice(authority.lastIndexOf(':') + 1)), noDelay: true });
    upstream.once('connect', () => {
      stream.respond({ ':status': 200 });
      buffersOnly(stream);
      stream.pipe(upstream);
      upstream.pipe(stream);
    });
    upstream.on('error', () => stream.destroy());
    stream.once('close', () => upstream.destroy());
  });
  server.listen(o.port, o.host, () => process.send?.({ port: o.port }));
  process.once('disconnect', () => process.exit(0));
}

function tunnelSession(spec: LoadSpec): ClientHttp2Session | undefined {
  const h = spec.hbone;
  if (h === undefined) return undefined;
  const session = http2.connect(`https://127.0.0.1:${h.port}`, {
    createConnection: () => tls.connect({ host: '127.0.0.1', port: h.port, cert: h.certPem, key: h.keyPem, ca: h.caPem, ALPNProtocols: ['h2'], minVersion: 'TLSv1.3', checkServerIdentity: () => undefined }),
  });
  session.on('error', () => undefined);
  return session;
}

/** Closed loop: `connections` workers, one GET at a time each, on one keep-alive pool (its connections are tunnels for HBONE-in). */
async function runLoad(spec: LoadSpec, onPhase: (phase: 'measure' | 'stop') => void): Promise<LoadResult> {
  const session = tunnelSession(spec);
  const pool = new Pool(`http://${spec.vip}`, {
    connections: spec.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
    ...(session === undefined ? {} : {
      connect: (_opts: unknown, cb: (...args: [null, net.Socket] | [Error, null]) => void) => {
        const stream = session.request({ ':method': 'CONNECT', ':authority': spec.vip }, { endStream: false });
        buffersOnly(stream);
        stream.on('error', (err: Error) => cb(err, null));
        stream.once('response', (h) => (h[':status'] === 200 ? cb(null, stream as unknown as net.Socket) : cb(new Error(`CONNECT ${String(h[':status'])}`), null)));
      },
    }),
  });
  let phase: 'warmup' | 'measure' | 'stop' = 'warmup';
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const samples: number[] = [];
  let start = 0;
  let end = 0;
  const worker = async (): Promise<void> => {
    while (phase !== 'stop') {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: '/bench', method: 'GET' });
        await res.body.dump();
        if (phase !== 'measure') continue;
        if (res.statusCode !== 200) {
          errors++;
          firstError ??= `HTTP ${res.statusCode}`;
        } else {
          completed++;
          if (samples.length < 100_000) samples.push(performance.now() - t0);
        }
      } catch (err) {
        if (phase === 'measure') {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
        await sleep(5);
      }
    }
  };
  const timer = setTimeout(() => {
    phase = 'measure';
    start = performance.now();
    onPhase('measure');
    setTimeout(() => {
      phase = 'stop';
      end = performance.now();
      onPhase('stop');
    }, spec.durationMs);
  }, spec.warmupMs);
  await Promise.all(Array.from({ length: spec.connections }, worker));
  clearTimeout(timer);
  await pool.destroy();
  session?.destroy();
  samples.sort((a, b) => a - b);
  const pct = (p: number): number => samples[Math.min(samples.length - 1, Math.max(0, Math.ceil(p * samples.length) - 1))] ?? Number.NaN;
  return { completed, errors, firstError, rps: end > start ? (completed * 1000) / (end - start) : 0, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

function loadMain(arg: string): void {
  process.once('disconnect', () => process.exit(1));
  void runLoad(JSON.parse(arg) as LoadSpec, (phase) => process.send?.({ phase })).then((result) => process.send?.({ result }, () => process.disconnect()));
}

// ---- orchestration ----

const children = new Set<ChildProcess>();
let tempDir: string | undefined;

function track<T extends ChildProcess>(c: T): T {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

function forkRole(role: string, arg = ''): Promise<{ child: ChildProcess; port: number }> {
  const child = track(fork(SELF, [role, arg], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} did not start within 10 s`)), 10_000);
    child.once('message', (m: unknown) => {
      clearTimeout(timer);
      resolve({ child, port: (m as { port: number }).port });
    });
    child.once('exit', (code) => reject(new Error(`${role} exited early (code ${String(code)})`)));
  });
}

async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** CPU of the waypoint and its worker processes (`--workers`), from /proc. */
const cpuMs = (pid: number): number => treeCpuMs(pid);

function writeConfig(dir: string, vips: { plain: string; ambient: string }, backendPort: number, podIp: string): void {
  const ns = { apiVersion: 'v1', kind: 'Namespace' };
  const docs: object[] = [
    { ...ns, metadata: { name: 'bench', labels: { 'istio.io/use-waypoint': 'waypoint' } } },
    { ...ns, metadata: { name: 'bench-amb', labels: { 'istio.io/use-waypoint': 'waypoint', 'istio.io/use-waypoint-namespace': 'bench', 'istio.io/dataplane-mode': 'ambient' } } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'bench' }, spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'plain', namespace: 'bench' }, spec: { clusterIP: vips.plain, ports: [{ name: 'http', port: PORT, targetPort: backendPort }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'plain-1', namespace: 'bench', labels: { 'kubernetes.io/service-name': 'plain' } }, addressType: 'IPv4', ports: [{ name: 'http', port: backendPort }], endpoints: [{ addresses: ['127.0.0.1'] }] },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'amb', namespace: 'bench-amb' }, spec: { clusterIP: vips.ambient, ports: [{ name: 'http', port: PORT, targetPort: backendPort }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'amb-0', namespace: 'bench-amb' }, spec: { serviceAccountName: 'backend', containers: [{ name: 'app', image: 'bench' }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'amb-1', namespace: 'bench-amb', labels: { 'kubernetes.io/service-name': 'amb' } }, addressType: 'IPv4', ports: [{ name: 'http', port: backendPort }], endpoints: [{ addresses: [podIp], targetRef: { kind: 'Pod', name: 'amb-0', namespace: 'bench-amb' } }] },
  ];
  writeFileSync(path.join(dir, 'bench.yaml'), docs.map((d) => stringify(d)).join('---\n'));
}

function writePem(dir: string, name: string, p: PemPair): { cert: string; key: string } {
  const cert = path.join(dir, `${name}-cert.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  writeFileSync(cert, p.certPem);
  writeFileSync(key, p.keyPem, { mode: 0o600 });
  return { cert, key };
}

async function startWaypoint(dir: string, ca: string, id: { cert: string; key: string }, hbonePort: number, upstreamPort: number): Promise<ChildProcess> {
  const admin = await freePort();
  const args = [fileURLToPath(new URL('../src/main.js', import.meta.url)), 'run', '--config', path.join(dir, 'bench.yaml'), '--admin-address', `127.0.0.1:${admin}`,
    '--metrics-address', `127.0.0.1:${await freePort()}`, '--hbone-address', `127.0.0.1:${hbonePort}`, '--cert', id.cert, '--key', id.key, '--trust-bundle', ca,
    '--hbone-upstream-port', String(upstreamPort), '--log-level', 'warn', '--drain-timeout', '1s', ...(WORKERS === undefined ? [] : ['--workers', WORKERS])];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] }));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error('waypoint exited during startup');
    if ((await fetch(`http://127.0.0.1:${admin}/healthz/ready`).then((r) => r.status, () => 0)) === 200) return child;
    await sleep(100);
  }
  throw new Error('waypoint not ready within 15 s');
}

function measure(spec: LoadSpec, pid: number): Promise<{ result: LoadResult; cpuMs: number }> {
  const child = track(fork(SELF, ['--load', JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' }));
  let cpuStart = 0;
  let cpu = 0;
  return new Promise((resolve, reject) => {
    child.on('message', (m: unknown) => {
      const msg = m as { phase?: 'measure' | 'stop'; result?: LoadResult };
      if (msg.phase === 'measure') cpuStart = cpuMs(pid);
      if (msg.phase === 'stop') cpu = cpuMs(pid) - cpuStart;
      if (msg.result !== undefined) resolve({ result: msg.result, cpuMs: cpu });
    });
    child.once('exit', (code) => reject(new Error(`load generator exited (code ${String(code)})`)));
  });
}

const fmt = (n: number, d: number): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export interface HboneBenchOptions {
  readonly durationMs: number;
  /** Keep-alive connections of the load generator (HBONE-in: CONNECT streams on one mTLS connection). */
  readonly connections: number;
  /** Progress lines; silent when absent. */
  readonly log?: (line: string) => void;
}

export interface HboneBenchRow {
  readonly scenario: Scenario;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Waypoint CPU per 1000 requests (ms), i.e. vCPU per 1000 req/s × 1000. */
  readonly cpuMsPer1000: number;
}

export interface HboneBenchResult {
  readonly rows: ReadonlyArray<HboneBenchRow>;
  /** The Markdown table the CLI prints (the `npm run bench` suite parses its `hbone-in+out` row). */
  readonly table: string;
  /** More than 1% errors in some scenario. */
  readonly failed: boolean;
}

/** Runs every scenario twice in one process tree and returns the side-by-side figures; cleans up after itself. */
export async function runHboneBench(options: HboneBenchOptions): Promise<HboneBenchResult> {
  try {
    return await bench(options);
  } finally {
    cleanup();
  }
}

async function bench(options: HboneBenchOptions): Promise<HboneBenchResult> {
  const { durationMs, connections } = options;
  const say = options.log ?? ((): void => undefined);
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'waypoint-hbone-bench-'));
  const ca = await createRootCa('bench');
  const caFile = path.join(tempDir, 'ca-cert.pem');
  writeFileSync(caFile, ca.certPem);
  const waypointId = writePem(tempDir, 'waypoint', await issueSvid(ca, { spiffe: 'spiffe://cluster.local/ns/bench/sa/waypoint' }));
  const client = await issueSvid(ca, { spiffe: 'spiffe://cluster.local/ns/bench/sa/client' });
  const podId = await issueSvid(ca, { spiffe: 'spiffe://cluster.local/ns/bench-amb/sa/backend' });
  const octet = (): number => Math.floor(Math.random() * 250) + 1;
  const [a, b] = [octet(), octet()];
  const vips = { plain: `127.79.${a}.${b}`, ambient: `127.79.${a}.${(b % 250) + 2}` };
  const podIp = `127.80.${a}.${b}`;

  const backend = await forkRole('--backend');
  const upstreamPort = await freePort(podIp);
  await forkRole('--destination', JSON.stringify({ host: podIp, port: upstreamPort, certPem: podId.certPem, keyPem: podId.keyPem, caPem: ca.certPem }));
  writeConfig(tempDir, vips, backend.port, podIp);
  const hbonePort = await freePort();
  const waypoint = await startWaypoint(tempDir, caFile, waypointId, hbonePort, upstreamPort);
  const pid = waypoint.pid ?? 0;
  const hbone = { port: hbonePort, certPem: client.certPem, keyPem: client.keyPem, caPem: ca.certPem };
  const specFor = (scenario: Scenario, warmupMs: number, ms: number): LoadSpec => ({
    scenario,
    vip: `${scenario === 'plain' || scenario === 'hbone-in' ? vips.plain : vips.ambient}:${PORT}`,
    hbone: scenario === 'hbone-in' || scenario === 'hbone-in+out' ? hbone : undefined,
    connections,
    warmupMs,
    durationMs: ms,
  });
  for (const s of SCENARIOS) {
    const probe = await measure(specFor(s, 0, 2000), pid);
    if (probe.result.completed === 0) throw new Error(`${s}: probe failed (${probe.result.firstError ?? 'no response'})`);
  }
  say(`waypoint --workers ${WORKERS ?? 'default'}; ${connections} keep-alive connections (HBONE-in: ${connections} CONNECT streams on one mTLS connection), 1 s warmup + ${durationMs / 1000} s per run, ${os.availableParallelism()} CPUs, node ${process.version}`);
  const runs: Array<{ scenario: Scenario; result: LoadResult; cpuMs: number }> = [];
  for (let round = 0; round < 2; round++) {
    for (const s of SCENARIOS) {
      const r = await measure(specFor(s, 1000, durationMs), pid);
      runs.push({ scenario: s, ...r });
      say(`  ${s}: ${fmt(r.result.rps, 0)} req/s, ${r.result.errors} errors${r.result.firstError === undefined ? '' : ` (first: ${r.result.firstError})`}`);
    }
  }
  const lines = ['| traffic | requests/s | p50 ms | p99 ms | errors | waypoint CPU ms / 1000 req | waypoint cores per 1000 req/s | req/s vs plain | CPU per request vs plain |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  const rows: HboneBenchRow[] = [];
  const cpuOf = (s: Scenario): number => {
    const all = runs.filter((r) => r.scenario === s);
    return (all.reduce((t, r) => t + r.cpuMs, 0) * 1000) / all.reduce((t, r) => t + r.result.completed + r.result.errors, 0);
  };
  const plainCpu = cpuOf('plain');
  const bestOf = (s: Scenario) => runs.filter((r) => r.scenario === s).sort((x, y) => y.result.rps - x.result.rps)[0];
  const plainRps = bestOf('plain')?.result.rps ?? Number.NaN;
  let failed = false;
  for (const s of SCENARIOS) {
    const best = bestOf(s);
    if (best === undefined) continue;
    const cpuPer1000 = cpuOf(s);
    const r = best.result;
    if (r.errors > (r.completed + r.errors) * 0.01) failed = true;
    rows.push({ scenario: s, rps: r.rps, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, cpuMsPer1000: cpuPer1000 });
    lines.push(`| ${s} | ${fmt(r.rps, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${r.errors} | ${fmt(cpuPer1000, 1)} | ${fmt(cpuPer1000 / 1000, 3)} | ${fmt(r.rps / plainRps, 2)} | ${fmt(cpuPer1000 / plainCpu, 2)} |`);
  }
  return { rows, table: lines.join('\n'), failed };
}

async function main(): Promise<number> {
  const result = await runHboneBench({
    durationMs: Math.round(Number(process.env['BENCH_DURATION_S'] ?? 5) * 1000),
    connections: Number(process.env['BENCH_CONNECTIONS'] ?? 32),
    log: (line) => console.log(line),
  });
  console.log(`\n${result.table}\n`);
  console.log('CPU is the waypoint process and its workers only (the load generator, backend and destination HBONE terminator run in their own processes); averaged over both runs of each row.');
  return result.failed ? 1 : 0;
}

function cleanup(): void {
  for (const c of children) c.kill('SIGKILL');
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

const role = process.argv[2];
// Only as a script (or one of its forked roles): importing this module for runHboneBench starts nothing.
if (path.resolve(process.argv[1] ?? '') === SELF) {
  if (role === '--backend') backendMain();
  else if (role === '--destination') destinationMain(process.argv[3] ?? '{}');
  else if (role === '--load') loadMain(process.argv[3] ?? '{}');
  else {
    process.once('exit', cleanup);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
    main().then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
      },
    );
  }
}
