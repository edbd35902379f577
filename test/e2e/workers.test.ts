// `waypoint run --workers 2` end to end with the real CLI: both workers serve the shared VIP listener, a config
// edit reaches both (the primary reports the generation applied only once both have it), and the primary's
// /stats/prometheus merges the requests counted by each worker.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Backend, startBackend, unusedPort } from '../harness/backends.js';
import { request, whoAnswers } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const vip = vipRange();
/** Generous: on a busy machine two workers take a while to start; nothing here asserts on time. */
const PATIENCE_MS = 60_000;
const REQUESTS = 20;

let dir: string;
let v1: Backend;
let v2: Backend;
let child: ChildProcess;
let stderr = '';
let admin: number;
let metrics: number;

function config(backend: 'web-v1' | 'web-v2'): string {
  return `${meshPreamble()}${serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${v1.port}`] })}---
${serviceYaml({ name: 'web-v2', vip: vip(2), endpoints: [`127.0.0.1:${v2.port}`] })}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ group: "", kind: Service, name: web, port: 80 }]
  rules: [{ backendRefs: [{ name: ${backend === 'web-v1' ? 'web' : 'web-v2'}, port: 80 }] }]
`;
}

async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${PATIENCE_MS} ms; waypoint stderr:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface WorkersView {
  readonly generation: number;
  readonly appliedGeneration: number;
  readonly workers: ReadonlyArray<{ readonly id: number; readonly pid?: number; readonly ready: boolean; readonly adminPort?: number }>;
}

async function workers(): Promise<WorkersView> {
  const res = await request('127.0.0.1', admin, { path: '/workers' });
  return JSON.parse(res.body) as WorkersView;
}

const counter = (text: string, name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

/** Requests counted by each worker's own admin server (the primary relays nothing here: we ask each directly). */
async function perWorkerRequests(): Promise<number[]> {
  const view = await workers();
  return Promise.all(view.workers.map(async (w) => counter((await request('127.0.0.1', w.adminPort ?? 0, { path: '/stats/prometheus' })).body, 'waypoint_downstream_requests_total')));
}

/** REQUESTS requests, each on a new connection: the cluster hands connections to the workers in turn. */
async function answers(): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < REQUESTS; i++) out.push(await whoAnswers(vip(1), 80));
  return out;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-workers-'));
  v1 = await startBackend('v1');
  v2 = await startBackend('v2');
  await writeFile(path.join(dir, 'mesh.yaml'), config('web-v1'));
  [admin, metrics] = [await unusedPort(), await unusedPort()];
  child = spawn(process.execPath, [MAIN, 'run', '--workers', '2', '--config', dir, '--admin-address', `127.0.0.1:${admin}`, '--metrics-address', `127.0.0.1:${metrics}`, '--hbone-address', `127.0.0.1:${await unusedPort()}`, '--drain-timeout', '2s'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  await eventually('readiness', async () => ((await request('127.0.0.1', admin, { path: '/healthz/ready' })).status === 200 ? true : undefined));
});

after(async () => {
  if (child.exitCode === null) {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `the primary exits 0 after draining its workers:\n${stderr}`);
  }
  await Promise.all([v1.close(), v2.close()]);
  await rm(dir, { recursive: true, force: true });
});

test('two workers serve the shared VIP listener and the primary merges their metrics', async () => {
  const view = await workers();
  assert.deepEqual(view.workers.map((w) => [w.id, w.ready]), [[1, true], [2, true]]);
  assert.equal(view.appliedGeneration, 1);
  const before = await perWorkerRequests();
  assert.deepEqual(await answers(), Array<string>(REQUESTS).fill('v1'));
  const after = await perWorkerRequests();
  const served = after.map((n, i) => n - (before[i] ?? 0));
  assert.equal(served.length, 2);
  assert.ok(served.every((n) => n > 0), `each worker served some of the requests: ${served.join(', ')}`);
  assert.equal(served.reduce((a, b) => a + b, 0), REQUESTS);
  // Merged on the primary's metrics address: the sum over both workers, one series per label set.
  const merged = (await request('127.0.0.1', metrics, { path: '/stats/prometheus' })).body;
  assert.equal(counter(merged, 'waypoint_downstream_requests_total'), after.reduce((a, b) => a + b, 0));
  const series = merged.split('\n').filter((l) => l.startsWith('istio_requests_total{') && l.includes('response_code="200"'));
  assert.equal(series.length, 1, merged);
  assert.equal(Number(series[0]?.split(' ').pop()), after.reduce((a, b) => a + b, 0));
  assert.equal(counter(merged, 'waypoint_workers'), 2);
  // Everything else on the admin address is one worker's view (both serve the same generation).
  const dump = JSON.parse((await request('127.0.0.1', admin, { path: '/config_dump' })).body) as { waypoint: string };
  assert.equal(dump.waypoint, 'default/waypoint');
});

test('a config edit reaches both workers before the primary reports its generation applied', async () => {
  const start = (await workers()).appliedGeneration;
  await writeFile(path.join(dir, 'mesh.yaml'), config('web-v2'));
  const applied = await eventually('generation applied by both workers', async () => {
    const view = await workers();
    return view.appliedGeneration > start && view.appliedGeneration === view.generation ? view : undefined;
  });
  assert.equal(applied.workers.length, 2);
  const before = await perWorkerRequests();
  // Once reported applied, every connection, whichever worker takes it, sees the new route.
  assert.deepEqual(await answers(), Array<string>(REQUESTS).fill('v2'));
  const after = await perWorkerRequests();
  assert.ok(after.every((n, i) => n > (before[i] ?? 0)), `both workers served after the edit: ${before.join(', ')} → ${after.join(', ')}`);
  const merged = (await request('127.0.0.1', metrics, { path: '/stats/prometheus' })).body;
  assert.equal(counter(merged, 'waypoint_config_generation'), applied.appliedGeneration);
});

test('a worker that dies is replaced, and the new one serves', async () => {
  const view = await workers();
  const victim = view.workers.find((w) => w.id === 2);
  assert.ok(victim?.pid !== undefined);
  process.kill(victim.pid, 'SIGKILL');
  const replaced = await eventually('worker 2 replaced', async () => {
    const now = await workers();
    return now.workers.length === 2 && now.workers.every((w) => w.ready && w.pid !== victim.pid) ? now : undefined;
  });
  assert.equal(replaced.workers.length, 2);
  const before = await perWorkerRequests();
  assert.deepEqual(await answers(), Array<string>(REQUESTS).fill('v2'), 'the replacement serves the current generation');
  const after = await perWorkerRequests();
  assert.ok(after.every((n, i) => n > (before[i] ?? 0)), `both workers served: ${before.join(', ')} → ${after.join(', ')}`);
});
