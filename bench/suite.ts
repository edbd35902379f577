// `npm run bench`: the side-by-side suite of issue #13. One nginx backend; direct, nginx reverse proxy, HAProxy,
// the waypoint with a bare route and with the full pipeline, measured in one run on loopback (max req/s with
// wrk, CPU and added latency at a fixed rate, peak RSS), worker scaling, route and policy scale curves and
// the HBONE figures; prints the tables and rewrites bench/RESULTS.md. `--quick`: short runs, fewer points.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureFixedRate } from './suite/fixed-rate.js';
import { ensurePackages, machineInfo } from './suite/packages.js';
import { BODY, startHaproxy, startNginxBackend, startNginxProxy } from './suite/peers.js';
import { killAllSync, stopAll, stopChild, treeCpuMs, treePeakRssMiB } from './suite/processes.js';
import { fmt, machineTable, sideBySide, type Target, type TargetRow, targetsTable } from './suite/report.js';
import { REQUEST_HEADERS, REQUEST_PATH, SERVICE_PORT, startWaypoint, type WaypointProcess, writeWaypointConfig } from './suite/waypoint-target.js';
import { runH2load, runWrk, type WrkResult } from './suite/wrk.js';
import type { ScalePoint } from './route-scale.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, '..', '..', 'bench', 'RESULTS.md');
const quick = process.argv.includes('--quick');
const env = (name: string, fallback: number): number => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};
const DURATION_S = env('BENCH_DURATION_S', quick ? 2 : 5);
const CONNECTIONS = Math.round(env('BENCH_CONNECTIONS', 32));
const RATE = Math.round(env('BENCH_RATE', 1000));
const ROUNDS = Math.round(env('BENCH_ROUNDS', quick ? 1 : 2));
const log = (line: string): void => console.log(line);

interface Endpoint {
  readonly key: 'direct' | 'nginx' | 'haproxy' | 'bare' | 'full';
  readonly label: string;
  readonly origin: string;
  /** The proxy's pid (undefined for direct: the backend is not the subject). */
  readonly pid: number | undefined;
}

async function probe(e: Endpoint): Promise<void> {
  const res = await fetch(`${e.origin}${REQUEST_PATH}`, { headers: REQUEST_HEADERS, signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  if (res.status !== 200 || body !== BODY) throw new Error(`probe of ${e.label} failed: HTTP ${res.status} ${JSON.stringify(body.slice(0, 120))}`);
}

function nodeScript(script: string, args: ReadonlyArray<string>, extraEnv: Record<string, string>, timeoutMs: number, nodeFlags: ReadonlyArray<string> = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...nodeFlags, path.join(HERE, script), ...args], { env: { ...process.env, ...extraEnv }, timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${script} failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

const workersSupported = (): Promise<boolean> =>
  nodeScript('../src/main.js', ['run', '--help'], {}, 20_000).then((out) => out.includes('--workers'), () => false);

async function closedLoop(e: Endpoint): Promise<WrkResult & { readonly cpuMsPer1000: number | undefined }> {
  const cpu0 = e.pid === undefined ? 0 : treeCpuMs(e.pid);
  const r = await runWrk({ url: `${e.origin}${REQUEST_PATH}`, headers: REQUEST_HEADERS, connections: CONNECTIONS, durationS: DURATION_S });
  const cpu = e.pid === undefined ? undefined : ((treeCpuMs(e.pid) - cpu0) * 1000) / Math.max(1, r.requests);
  return { ...r, cpuMsPer1000: cpu };
}

async function main(): Promise<number> {
  const started = new Date();
  ensurePackages(log);
  const machine = machineInfo();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'waypoint-bench-suite-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  log(`bench suite${quick ? ' (--quick)' : ''}: ${machine.cores} cores, ${machine.cpuModel}, node ${machine.node}; wrk 1 thread × ${CONNECTIONS} connections, ${DURATION_S} s per run, ${ROUNDS} round(s); fixed rate ${RATE} req/s`);

  const backend = await startNginxBackend(dir);
  const nginx = await startNginxProxy(dir, backend.port);
  const haproxy = await startHaproxy(dir, backend.port);
  const withWorkers = await workersSupported();
  const oneWorker = withWorkers ? 1 : undefined;
  const octet = (): number => Math.floor(Math.random() * 250) + 1;
  const vips = { bare: `127.78.${octet()}.${octet()}`, full: `127.78.${octet()}.${octet()}` };
  writeWaypointConfig(path.join(dir, 'bare'), 'bare', vips.bare, backend.port);
  writeWaypointConfig(path.join(dir, 'full'), 'full', vips.full, backend.port);
  const bare = await startWaypoint(path.join(dir, 'bare'), oneWorker);
  const full = await startWaypoint(path.join(dir, 'full'), oneWorker);
  const endpoints: Endpoint[] = [
    { key: 'direct', label: `direct (nginx backend :${backend.port})`, origin: `http://127.0.0.1:${backend.port}`, pid: undefined },
    { key: 'nginx', label: 'nginx reverse proxy (1 worker, keepalive)', origin: `http://127.0.0.1:${nginx.port}`, pid: nginx.pid },
    { key: 'haproxy', label: 'HAProxy (1 thread, http-reuse always)', origin: `http://127.0.0.1:${haproxy.port}`, pid: haproxy.pid },
    { key: 'bare', label: 'waypoint, bare route', origin: `http://${vips.bare}:${SERVICE_PORT}`, pid: bare.pid },
    { key: 'full', label: 'waypoint, full pipeline', origin: `http://${vips.full}:${SERVICE_PORT}`, pid: full.pid },
  ];
  for (const e of endpoints) await probe(e);
  const unmatched = await fetch(`${endpoints[4]?.origin}${REQUEST_PATH}`, { headers: { 'x-bench-route': 'nope' }, signal: AbortSignal.timeout(5_000) }).then((r) => r.status);
  log(`probes: every target answers the backend's body; full pipeline without the route header → ${unmatched}`);

  // Closed loop (max throughput), interleaved rounds; each target keeps its best round.
  const closed = new Map<Endpoint['key'], WrkResult & { readonly cpuMsPer1000: number | undefined }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const e of endpoints) {
      const r = await closedLoop(e);
      log(`  wrk ${e.key}: ${fmt(r.rps, 0)} req/s${r.errors > 0 ? `, ${r.errors} errors` : ''}`);
      const prev = closed.get(e.key);
      if (prev === undefined || r.rps > prev.rps) closed.set(e.key, r);
    }
  }
  // Fixed rate: CPU per request and latency; each target keeps its lowest-CPU round (least disturbed).
  const fixed = new Map<Endpoint['key'], Awaited<ReturnType<typeof measureFixedRate>>>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const e of endpoints) {
      const r = await measureFixedRate(e.origin, REQUEST_PATH, REQUEST_HEADERS, RATE, DURATION_S * 1000, e.pid);
      log(`  ${RATE} req/s ${e.key}: p50 ${fmt(r.load.p50Ms, 2)} ms, p99 ${fmt(r.load.p99Ms, 2)} ms, CPU ${fmt(r.cpuMsPer1000, 1)} ms/1000 req${r.load.errors > 0 ? `, ${r.load.errors} errors` : ''}`);
      const prev = fixed.get(e.key);
      if (prev === undefined || (r.cpuMsPer1000 ?? r.load.p50Ms) < (prev.cpuMsPer1000 ?? prev.load.p50Ms)) fixed.set(e.key, r);
    }
  }
  const rows: TargetRow[] = endpoints.map((e) => {
    const c = closed.get(e.key);
    const f = fixed.get(e.key);
    return {
      label: e.label,
      closedRps: c?.rps ?? Number.NaN,
      closedErrors: c?.errors ?? 0,
      closedCpuMsPer1000: c?.cpuMsPer1000,
      fixedP50Ms: f?.load.p50Ms ?? Number.NaN,
      fixedP99Ms: f?.load.p99Ms ?? Number.NaN,
      fixedCpuMsPer1000: f?.cpuMsPer1000,
      peakRssMiB: e.pid === undefined ? undefined : treePeakRssMiB(e.pid),
    };
  });
  const h2 = await runH2load({ url: `${endpoints[4]?.origin}${REQUEST_PATH}`, headers: REQUEST_HEADERS, clients: 4, streams: 8, durationS: DURATION_S }).catch((err: unknown) => {
    log(`  h2load failed: ${String(err)}`);
    return undefined;
  });
  if (h2 !== undefined) log(`  h2load h2c full pipeline: ${fmt(h2.rps, 0)} req/s`);
  const bareRss = treePeakRssMiB(bare.pid);
  await stopChild(bare.child);

  // Scaling 1 → N workers (full pipeline, max throughput); the one-worker figure is the run above.
  const scaling: Array<{ workers: number; rps: number; rssMiB: number }> = [];
  const cores = machine.cores;
  if (withWorkers) {
    scaling.push({ workers: 1, rps: closed.get('full')?.rps ?? Number.NaN, rssMiB: treePeakRssMiB(full.pid) });
    await stopChild(full.child);
    for (let n = 2; n <= Math.max(2, cores); n *= 2) {
      const wp: WaypointProcess = await startWaypoint(path.join(dir, 'full'), n);
      let best = 0;
      for (let round = 0; round < ROUNDS; round++) best = Math.max(best, (await closedLoop({ key: 'full', label: '', origin: `http://${vips.full}:${SERVICE_PORT}`, pid: wp.pid })).rps);
      scaling.push({ workers: n, rps: best, rssMiB: treePeakRssMiB(wp.pid) });
      log(`  wrk full pipeline, ${n} workers: ${fmt(best, 0)} req/s`);
      await stopChild(wp.child);
    }
  }
  await stopAll();

  // Scale curves (in-process) and the other engineers' benches, run as they are.
  log('route scale curves...');
  const scale: ScalePoint[] | undefined = await nodeScript('route-scale.js', ['--json', ...(quick ? ['--quick'] : [])], {}, 600_000, ['--expose-gc'])
    .then((out) => JSON.parse(out.trim().split('\n').pop() ?? '[]') as ScalePoint[], (err: unknown) => {
      log(`  route-scale failed: ${String(err)}`);
      return undefined;
    });
  log('authorization policy scale (bench/authz-eval.js)...');
  const authz = await nodeScript('authz-eval.js', [], {}, 600_000).catch((err: unknown) => `failed: ${String(err)}`);
  log('HBONE (bench/hbone.js)...');
  const hbone = await nodeScript('hbone.js', [], { BENCH_DURATION_S: String(quick ? 1 : 3) }, 900_000).catch((err: unknown) => `failed: ${String(err)}`);

  // ---- targets ----
  const row = (k: Endpoint['key']): TargetRow | undefined => rows[endpoints.findIndex((e) => e.key === k)];
  const direct = row('direct');
  const fullRow = row('full');
  const bareRow = row('bare');
  const nginxRps = row('nginx')?.closedRps ?? Number.NaN;
  const vsNginx = (fullRow?.closedRps ?? Number.NaN) / nginxRps;
  const vcpu = (fullRow?.fixedCpuMsPer1000 ?? Number.NaN) / 1000;
  const addedP50 = (fullRow?.fixedP50Ms ?? Number.NaN) - (direct?.fixedP50Ms ?? Number.NaN);
  const addedP99 = (fullRow?.fixedP99Ms ?? Number.NaN) - (direct?.fixedP99Ms ?? Number.NaN);
  const pipelineCost = 1 - (fullRow?.closedRps ?? Number.NaN) / (bareRow?.closedRps ?? Number.NaN);
  const rssMB = ((fullRow?.peakRssMiB ?? Number.NaN) * 1048576) / 1e6;
  const point = (layout: ScalePoint['layout'], n: number): ScalePoint | undefined => scale?.find((p) => p.layout === layout && p.rules === n);
  const p10 = point('other-services', 10);
  const p10k = point('other-services', 10000);
  const compile10k = p10k === undefined ? Number.NaN : p10k.parseMs + p10k.compileMs;
  const matchRatio = p10k === undefined || p10 === undefined ? Number.NaN : p10k.matchNs / p10.matchNs;
  // Read the column by its header, not its position: bench/hbone.ts owns its table's layout.
  const cells = (line: string | undefined): string[] => (line ?? '').split('|').slice(1, -1).map((c) => c.trim());
  const hboneHeader = cells(/^\| traffic \|.*$/m.exec(hbone)?.[0]);
  const hboneRow = cells(/^\| hbone-in\+out \|.*$/m.exec(hbone)?.[0]);
  const hboneCores = Number(hboneRow[hboneHeader.indexOf('waypoint cores per 1000 req/s')] ?? Number.NaN);
  const verdict = (n: number, ok: (n: number) => boolean): boolean | undefined => (Number.isFinite(n) ? ok(n) : undefined);
  const targets: Target[] = [
    { name: 'max throughput vs nginx reverse proxy (full pipeline, 1 worker)', goal: '≥ 0.5x (stretch 0.6x)', measured: `${fmt(vsNginx, 2)}x (${fmt(fullRow?.closedRps, 0)} vs ${fmt(nginxRps, 0)} req/s)`, pass: verdict(vsNginx, (v) => v >= 0.5) },
    { name: `CPU per 1,000 req/s (full pipeline, at ${RATE} req/s)`, goal: '≤ 0.05 vCPU', measured: `${fmt(vcpu, 3)} vCPU`, pass: verdict(vcpu, (v) => v <= 0.05) },
    { name: `added latency p50 at ${RATE} req/s`, goal: '≤ 0.25 ms', measured: `${fmt(addedP50, 2)} ms`, pass: verdict(addedP50, (v) => v <= 0.25) },
    { name: `added latency p99 at ${RATE} req/s`, goal: '≤ 1 ms', measured: `${fmt(addedP99, 2)} ms`, pass: verdict(addedP99, (v) => v <= 1) },
    { name: 'full pipeline throughput cost vs bare route', goal: '≤ 15%', measured: `${fmt(pipelineCost * 100, 1)}% (${fmt(fullRow?.closedRps, 0)} vs ${fmt(bareRow?.closedRps, 0)} req/s)`, pass: verdict(pipelineCost, (v) => v <= 0.15) },
    { name: 'peak RSS under load (full pipeline, 1 worker)', goal: '≤ 60 MB', measured: `${fmt(rssMB, 1)} MB (VmHWM)`, pass: verdict(rssMB, (v) => v <= 60) },
    { name: '10,000 HTTPRoute rules compile (YAML parse + validate + compile)', goal: '< 1 s', measured: p10k === undefined ? 'n/a' : `${fmt(compile10k / 1000, 2)} s (parse ${fmt(p10k.parseMs, 0)} ms + validate/compile ${fmt(p10k.compileMs, 0)} ms)`, pass: verdict(compile10k, (v) => v < 1000) },
    { name: 'match cost, 10,000 rules on other Services vs 10', goal: '≤ 1.2x', measured: p10k === undefined ? 'n/a' : `${fmt(matchRatio, 2)}x (${fmt(p10k.matchNs, 0)} vs ${fmt(p10?.matchNs, 0)} ns)`, pass: verdict(matchRatio, (v) => v <= 1.2) },
    { name: 'HTTP/1.1 inside HBONE in and out, CPU per 1,000 req/s', goal: '≤ 0.25 vCPU', measured: `${fmt(hboneCores, 3)} vCPU`, pass: verdict(hboneCores, (v) => v <= 0.25) },
  ];

  const side = sideBySide(rows, nginxRps, { p50: direct?.fixedP50Ms ?? Number.NaN, p99: direct?.fixedP99Ms ?? Number.NaN }, RATE);
  const tgt = targetsTable(targets);
  console.log(`\n${side}\n\n${tgt}\n`);
  const scaleTable = scale === undefined ? 'route-scale failed (see the console output)' : [
    '| layout | rules | YAML parse ms | validate + compile ms | snapshot heap MiB | match ns/request |', '|---|---:|---:|---:|---:|---:|',
    ...scale.map((p) => `| ${p.layout} | ${p.rules.toLocaleString('en-US')} | ${fmt(p.parseMs, 0)} | ${fmt(p.compileMs, 0)} | ${fmt(p.snapshotMiB, 1)} | ${fmt(p.matchNs, 0)} |`),
  ].join('\n');
  const scalingTable = scaling.length === 0 ? '`--workers` is not available in this build: not measured.' : [
    '| workers | max req/s (wrk, full pipeline) | vs 1 worker | peak RSS MiB (all processes) |', '|---:|---:|---:|---:|',
    ...scaling.map((s) => `| ${s.workers} | ${fmt(s.rps, 0)} | ${fmt(s.rps / (scaling[0]?.rps ?? Number.NaN), 2)} | ${fmt(s.rssMiB, 1)} |`),
  ].join('\n');
  const md = `# Benchmark results

Written by \`npm run bench${quick ? ' -- --quick' : ''}\` (bench/suite.ts) on ${started.toISOString()}; every figure below comes from that one run.
Everything ran on loopback on this one machine: wrk/the load generator, the backend and the proxy share its cores,
so compare the ratios; absolute numbers move with the machine and whatever else runs on it.

## Machine

${machineTable(machine, [['backend', 'nginx, 1 worker, `return 200` with a fixed 100-byte body'], ['wrk', `1 thread, ${CONNECTIONS} keep-alive connections, ${DURATION_S} s per run, best of ${ROUNDS}`], ['fixed rate', `bench/load.ts open loop, ${RATE} req/s for ${DURATION_S} s after 1 s warmup, up to 32 connections; latency counted from each request's scheduled time; lowest-CPU run of ${ROUNDS}`], ['waypoint', `${withWorkers ? '`--workers 1`' : 'one process'}; peak RSS is VmHWM over the whole run; bare route: an HTTPRoute without matches, metrics off (Telemetry); full pipeline: 3 rules with path + header matches, one ALLOW AuthorizationPolicy (ipBlocks, methods, paths, a header condition), Istio metrics on, access log off`]])}

## Targets (issue #13)

${tgt}

Known limits behind the misses (from profiles of this version, not from this run): the waypoint reads and
writes HTTP/1.1 itself on both sides (src/listener/h1, src/upstream/h1) with one write syscall per message,
and at max throughput those writes are about 45% of its busy time; the rest is JavaScript spread thin
(parsing, routing, RBAC, metrics) with no single hot spot, and the Node event loop costs more per wakeup than
nginx's, which shows most at a low fixed rate where every request pays its own. On 2 cores wrk, the nginx
backend and the proxy compete: nginx as a proxy needs far less CPU per request, so everything turns around
faster. Idle RSS is about 72 MB (a bare Node process is about 42 MB; the rest is zod, the YAML parsers and
compiled code). At 10,000 rules, zod validation and the first large compile of the process take most of
the time.

## Side by side

${side}

CPU is the proxy's own process tree (utime + stime from /proc/PID/stat over the measured window), divided by
the requests served: ms per 1,000 requests = vCPU per 1,000 req/s × 1000. Added latency is against the direct
row at the same fixed rate. h2c (h2load, 4 connections × 8 streams) through the full pipeline: ${h2 === undefined ? 'n/a' : `${fmt(h2.rps, 0)} req/s`}.
Bare-route waypoint peak RSS: ${fmt(bareRss, 1)} MiB.

## Scaling 1 → N workers (\`waypoint run --workers N\`)

${scalingTable}

With ${cores} cores shared by wrk, the nginx backend and the waypoint, more workers than cores cannot add throughput;
the figure shows what the proxy gains when it is not the only process on the machine.

## Scale curves: HTTPRoute rules (bench/route-scale.ts)

${scaleTable}

*other-services*: the target Service keeps 10 rules and the others are spread over other Services (10 rules per
HTTPRoute); *same-service*: every rule is on the target Service and the request matches the last one in
precedence order (the worst case: first match wins, as the Gateway API specifies). Times are CPU time.

## Scale curves: AuthorizationPolicies (bench/authz-eval.ts)

\`\`\`
${authz.trim()}
\`\`\`

## HBONE (bench/hbone.ts)

\`\`\`
${hbone.trim()}
\`\`\`
`;
  writeFileSync(RESULTS, md);
  log(`wrote ${RESULTS}`);
  return rows.some((r) => r.closedErrors > 0) ? 1 : 0;
}

process.once('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().finally(() => process.exit(130)));
main().then(
  async (code) => {
    await stopAll();
    process.exitCode = code;
  },
  async (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    await stopAll();
    process.exitCode = 1;
  },
);
