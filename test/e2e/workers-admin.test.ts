// The admin views of a `waypoint run --workers 2` primary cover both workers: /debug/requests, /debug/stats (the
// dashboard) and /debug/tap merge what each worker served, checked against each worker's own counters.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Backend, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const vip = vipRange();
/** Generous: on a busy machine two workers take a while to start; nothing here asserts on time. */
const PATIENCE_MS = 60_000;
const OK_REQUESTS = 16;
/** Sent to a Service whose only endpoint refuses connections: 503 UF, listed as failures on the dashboard. */
const FAILED_REQUESTS = 6;

let dir: string;
let v1: Backend;
let child: ChildProcess;
let stderr = '';
let admin: number;

async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  let last: unknown;
  for (;;) {
    const value = await check().catch((err: unknown) => void (last = err));
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${PATIENCE_MS} ms (${String(last)}); waypoint stderr:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface WorkersView {
  readonly workers: ReadonlyArray<{ readonly id: number; readonly ready: boolean; readonly adminPort?: number }>;
}

const counter = (text: string, name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

async function perWorkerRequests(): Promise<number[]> {
  const view = JSON.parse((await request('127.0.0.1', admin, { path: '/workers' })).body) as WorkersView;
  return Promise.all(view.workers.map(async (w) => counter((await request('127.0.0.1', w.adminPort ?? 0, { path: '/stats/prometheus' })).body, 'waypoint_downstream_requests_total')));
}

interface Trace {
  readonly worker: number;
  readonly id: number;
  readonly time: string;
  readonly service: string;
  readonly request: { readonly path: string };
  readonly response: { readonly status: number };
}

/** A tap on the primary's admin address, collecting the lines it streams. */
function openTap(): Promise<{ readonly lines: Trace[]; readonly close: () => void }> {
  return new Promise((resolve, reject) => {
    const lines: Trace[] = [];
    const req = http.get({ host: '127.0.0.1', port: admin, path: '/debug/tap', agent: false }, (res) => {
      assert.equal(res.statusCode, 200);
      let partial = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        partial += chunk;
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        for (const p of parts) if (p !== '') lines.push(JSON.parse(p) as Trace);
      });
      res.on('error', () => undefined);
      resolve({ lines, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-workers-admin-'));
  v1 = await startBackend('v1');
  const refused = await unusedPort();
  await writeFile(path.join(dir, 'mesh.yaml'), `${meshPreamble()}${serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${v1.port}`] })}---
${serviceYaml({ name: 'down', vip: vip(2), endpoints: [`127.0.0.1:${refused}`] })}`);
  admin = await unusedPort();
  child = spawn(process.execPath, [MAIN, 'run', '--workers', '2', '--config', dir, '--admin-address', `127.0.0.1:${admin}`, '--metrics-address', `127.0.0.1:${await unusedPort()}`, '--hbone-address', `127.0.0.1:${await unusedPort()}`, '--drain-timeout', '2s'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  await eventually('both workers ready', async () => {
    const view = JSON.parse((await request('127.0.0.1', admin, { path: '/workers' })).body) as WorkersView;
    return view.workers.length === 2 && view.workers.every((w) => w.ready) ? true : undefined;
  });
});

after(async () => {
  if (child.exitCode === null) {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `the primary exits 0 after draining its workers:\n${stderr}`);
  }
  await v1.close();
  await rm(dir, { recursive: true, force: true });
});

test('/debug/requests, /debug/stats and /debug/tap on the primary cover the requests both workers served', async (t) => {
  const tap = await openTap();
  // Closed however the test ends: an open tap would hold the primary's admin server open.
  t.after(() => tap.close());
  const before = await perWorkerRequests();
  // Each request on a new connection: the cluster hands connections to the workers in turn.
  for (let i = 0; i < OK_REQUESTS; i++) assert.equal((await request(vip(1), 80, { path: `/ok/${i}` })).status, 200);
  for (let i = 0; i < FAILED_REQUESTS; i++) assert.equal((await request(vip(2), 80, { path: `/down/${i}` })).status, 503);
  const sent = OK_REQUESTS + FAILED_REQUESTS;
  const after = await perWorkerRequests();
  const served = after.map((n, i) => n - (before[i] ?? 0));
  assert.ok(served.length === 2 && served.every((n) => n > 0), `each worker served some of the requests: ${served.join(', ')}`);
  assert.equal(served.reduce((a, b) => a + b, 0), sent);

  // /debug/requests: every request, newest first, from both workers, in the endpoint's JSON shape.
  const listed = JSON.parse((await request('127.0.0.1', admin, { path: '/debug/requests' })).body) as { capacity: number; requests: Trace[] };
  assert.equal(listed.requests.length, sent);
  assert.deepEqual(new Set(listed.requests.map((r) => r.worker)), new Set([1, 2]));
  assert.deepEqual(listed.requests.map((r) => r.request.path).sort(), [...Array.from({ length: OK_REQUESTS }, (_, i) => `/ok/${i}`), ...Array.from({ length: FAILED_REQUESTS }, (_, i) => `/down/${i}`)].sort());
  const times = listed.requests.map((r) => Date.parse(r.time));
  assert.ok(times.every((t, i) => i === 0 || (times[i - 1] ?? 0) >= t), 'newest first');
  assert.equal(listed.requests[0]?.request.path, `/down/${FAILED_REQUESTS - 1}`);
  // The filters and the limit apply to the merged list.
  const failedOnly = JSON.parse((await request('127.0.0.1', admin, { path: '/debug/requests?status=5xx&limit=4' })).body) as { requests: Trace[] };
  assert.deepEqual(failedOnly.requests.map((r) => r.request.path), [5, 4, 3, 2].map((i) => `/down/${i}`));
  assert.equal((await request('127.0.0.1', admin, { path: '/debug/requests?limit=-1' })).status, 400);

  // /debug/stats: once the last request's second is complete, the totals are the sum over both workers.
  interface Stats {
    readonly total: { readonly summary: { readonly requests: number; readonly errors: number; readonly p50: number | null }; readonly points: { readonly requests: number[] } };
    readonly services: ReadonlyArray<{ readonly key: string; readonly summary: { readonly requests: number } }>;
    readonly failures: ReadonlyArray<{ readonly path: string; readonly status: number }>;
  }
  const stats = await eventually('stats totals', async () => {
    const s = JSON.parse((await request('127.0.0.1', admin, { path: '/debug/stats?window=60&points=60' })).body) as Stats;
    return s.total.summary.requests === sent ? s : undefined;
  });
  assert.equal(stats.total.points.requests.reduce((a, b) => a + b, 0), sent);
  assert.equal(stats.total.summary.errors, FAILED_REQUESTS);
  assert.notEqual(stats.total.summary.p50, null);
  assert.deepEqual(stats.services.map((s) => [s.key, s.summary.requests]), [['default/web', OK_REQUESTS], ['default/down', FAILED_REQUESTS]]);
  assert.deepEqual(stats.failures.map((f) => f.path), Array.from({ length: FAILED_REQUESTS }, (_, i) => `/down/${FAILED_REQUESTS - 1 - i}`));
  assert.equal((await request('127.0.0.1', admin, { path: '/debug/stats?window=0' })).status, 400);

  // /debug/tap: one stream with the requests of both workers.
  const tapped = await eventually('tap lines', async () => (tap.lines.length >= sent ? tap.lines : undefined));
  tap.close();
  assert.equal(tapped.length, sent);
  assert.deepEqual(new Set(tapped.map((t) => t.worker)), new Set([1, 2]));
  assert.deepEqual(tapped.map((t) => t.request.path).sort(), listed.requests.map((r) => r.request.path).sort());
});
