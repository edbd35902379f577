// Per-request cost of a header-adding proxy-wasm plugin (test/fixtures/wasm/assembly/add-header.ts: adds a
// request header, removes one, adds a response header) against the same route without it, side by side:
// (1) the plugin's filter alone (host callbacks per request), (2) end to end through an in-process
// waypoint with two Services on one backend, one of them with a WasmPlugin (loopback only).
// Run: npm run build && node dist/bench/wasm-plugin.js   (BENCH_REQUESTS, BENCH_CONCURRENCY, BENCH_ROUNDS)
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { Waypoint } from '../src/app/waypoint.js';
import { FileSource } from '../src/config/source/file-source.js';
import { HeaderList } from '../src/http/header-list.js';
import { silentLogger } from '../src/observability/logger.js';
import type { HttpExchange } from '../src/proxy/http-exchange.js';
import { WasmRuntime } from '../src/wasm/host/wasm-runtime.js';
import { asPlugin, sha256 } from '../test/fixtures/wasm/build.js';
import { meshPreamble, serviceYaml } from '../test/harness/config.js';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 20_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

interface Row {
  readonly name: string;
  readonly wallUs: number;
  readonly cpuUs: number;
}

const FIELDS = ['host', 'svc.bench.svc.cluster.local', 'user-agent', 'bench/1.0', 'accept', '*/*', 'x-request-id', '9b2c0c1e-7a4f-4e3e-9d8b-1a2b3c4d5e6f', 'x-forwarded-proto', 'http'];

/** The filter alone: request headers, response headers and log phases on a minimal exchange, best of ROUNDS. */
async function filterAlone(bytes: Uint8Array): Promise<Row> {
  const runtime = new WasmRuntime({ log: silentLogger });
  const result = runtime.filterFor({
    key: 'bench/add-header', rootId: '', configuration: '{"greeting":"bench"}', vmEnv: new Map(), failStrategy: 'FAIL_CLOSE',
    phase: 'UNSPECIFIED_PHASE', priority: 0, module: { kind: 'ready', sha256: sha256(bytes), bytes },
  }, { service: { key: 'bench/svc', namespace: 'bench', name: 'svc', hostname: 'svc.bench.svc.cluster.local' }, port: 8080 });
  if (!result.ok) throw new Error(result.reason);
  const filter = result.filter;
  let best: Row | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    for (let i = 0; i < REQUESTS; i++) {
      const ex = { requestHeaders: new HeaderList([...FIELDS]), path: '/bench', method: 'GET', status: 200, req: { headers: {}, httpVersionMajor: 1 }, res: { headersSent: false }, done: false } as unknown as HttpExchange;
      filter.onRequestHeaders?.(ex);
      filter.onResponseHeaders?.(ex, new HeaderList(['content-type', 'text/plain', 'content-length', '2']));
      filter.onLog?.(ex);
    }
    const wallUs = Number(process.hrtime.bigint() - t) / 1000 / REQUESTS;
    const used = process.cpuUsage(cpu);
    const row = { name: 'add-header plugin filter alone (6 guest callbacks, 3 header edits)', wallUs, cpuUs: (used.user + used.system) / REQUESTS };
    if (best === undefined || row.cpuUs < best.cpuUs) best = row;
  }
  runtime.close();
  return best as Row;
}

async function throughWaypoint(bytes: Uint8Array): Promise<Row[]> {
  const backend = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok'));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as AddressInfo).port;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-wasm-'));
  const moduleFile = path.join(dir, 'add-header.wasm');
  writeFileSync(moduleFile, bytes);
  const base = `127.79.${Math.floor(Math.random() * 200) + 20}`;
  const svc = (name: string, n: number): string =>
    serviceYaml({ name, namespace: 'bench', vip: `${base}.${n}`, port: 8080, endpoints: [`127.0.0.1:${port}`] });
  writeFileSync(path.join(dir, 'mesh.yaml'), `${meshPreamble('bench')}${svc('plain', 1)}${svc('wasm', 2)}---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: add-header, namespace: bench}
spec:
  targetRefs: [{kind: Service, group: "", name: wasm}]
  url: file://${moduleFile}
  pluginConfig: {greeting: bench}
`);
  const waypoint = new Waypoint({
    source: new FileSource([dir]), waypoint: undefined, clusterDomain: 'cluster.local', meshConfigFile: undefined,
    adminAddress: { host: '127.0.0.1', port: 0 }, metricsAddress: undefined, hboneAddress: undefined, connectTimeoutMs: 2000,
    log: silentLogger, random: Math.random, observer: undefined,
  });
  await waypoint.start();
  const run = async (name: string, ip: string, expectPlugin: boolean): Promise<Row> => {
    const pool = new Pool(`http://${ip}:8080`, { connections: CONCURRENCY });
    const once = async (): Promise<boolean> => {
      const res = await pool.request({ path: '/bench', method: 'GET' });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`${name}: status ${res.statusCode}`);
      return res.headers['x-wasm-response'] === 'hit';
    };
    // The module is fetched and applied asynchronously: wait until the plugin answers, then warm up.
    for (let i = 0; i < 200 && (await once()) !== expectPlugin; i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 1000; i++) if ((await once()) !== expectPlugin) throw new Error(`${name}: plugin ${expectPlugin ? 'missing' : 'present'}`);
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) await once();
    }));
    const wallUs = Number(process.hrtime.bigint() - t) / 1000 / REQUESTS;
    const used = process.cpuUsage(cpu);
    await pool.close();
    return { name, wallUs, cpuUs: (used.user + used.system) / REQUESTS };
  };
  try {
    const rows: Row[] = [];
    // Alternate the two routes so load on the shared machine hits both alike.
    for (let round = 0; round < 2; round++) {
      rows.push(await run(`no plugin (Service plain), round ${round + 1}`, `${base}.1`, false));
      rows.push(await run(`add-header WasmPlugin (Service wasm), round ${round + 1}`, `${base}.2`, true));
    }
    return rows;
  } finally {
    await waypoint.stop(1000);
    backend.closeAllConnections();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(title: string, rows: ReadonlyArray<Row>): string {
  const head = `| case | µs/request wall (${CONCURRENCY} in flight for the waypoint rows) | CPU µs/request (whole process) |\n|---|---|---|`;
  return `\n${title}\n\n${head}\n${rows.map((r) => `| ${r.name} | ${r.wallUs.toFixed(1)} | ${r.cpuUs.toFixed(1)} |`).join('\n')}\n`;
}

const bytes = await asPlugin('add-header');
console.log(`wasm-plugin bench: ${REQUESTS} requests per case, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(table('Filter alone (one request at a time):', [await filterAlone(bytes)]));
console.log(table('Through the waypoint (HTTP/1.1 keep-alive):', await throughWaypoint(bytes)));
