// End to end with the real CLI process: readiness, SIGTERM drain with a request in flight,
// startup failure when a VIP port is taken, and malformed client input.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Backend, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const vip = vipRange();
let dir: string;
let slow: Backend;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-life-'));
  slow = await startBackend('slow', (req, res) => {
    const ms = Number(/delay=(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
    setTimeout(() => res.end('done'), ms);
  });
  await writeFile(path.join(dir, 'mesh.yaml'), meshPreamble() + serviceYaml({ name: 'slow', vip: vip(1), endpoints: [`127.0.0.1:${slow.port}`] }));
});

after(async () => {
  await slow.close();
  await rm(dir, { recursive: true, force: true });
});

interface Proc {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly exit: Promise<number | null>;
}

function runWaypoint(args: string[]): Proc {
  const child = spawn(process.execPath, [MAIN, 'run', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

async function waitReady(admin: number, proc: Proc): Promise<void> {
  // Generous: `run` starts one worker per core by default (src/cluster), slow on a busy machine.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await request('127.0.0.1', admin, { path: '/healthz/ready' }).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`not ready: ${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('SIGTERM stops accepting, lets the in-flight request finish, and exits 0', async () => {
  const admin = await unusedPort();
  const proc = runWaypoint(['--config', dir, '--admin-address', `127.0.0.1:${admin}`, '--metrics-address', `127.0.0.1:${await unusedPort()}`, '--drain-timeout', '5s']);
  await waitReady(admin, proc);
  const inFlight = request(vip(1), 80, { path: '/?delay=800' });
  await new Promise((r) => setTimeout(r, 200));
  proc.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 150));
  // New connections are refused once draining has begun.
  await assert.rejects(request(vip(1), 80), /ECONNREFUSED/);
  const res = await inFlight;
  assert.deepEqual([res.status, res.body], [200, 'done']);
  assert.equal(await proc.exit, 0);
  assert.match(proc.stderr(), /drained/);
});

test('a VIP port already in use is a clear startup error', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(80, vip(1), () => resolve()));
  try {
    const proc = runWaypoint(['--config', dir, '--admin-address', `127.0.0.1:${await unusedPort()}`, '--metrics-address', `127.0.0.1:${await unusedPort()}`]);
    assert.equal(await proc.exit, 1);
    assert.match(proc.stderr(), new RegExp(`cannot listen on ${vip(1).replaceAll('.', '\\.')}:80 for Service default/slow: address already in use`));
  } finally {
    blocker.close();
  }
});

test('an admin port already in use is a clear startup error', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const proc = runWaypoint(['--config', dir, '--admin-address', `127.0.0.1:${port}`]);
    assert.equal(await proc.exit, 1);
    assert.match(proc.stderr(), /cannot start the admin server on 127\.0\.0\.1:\d+: address already in use/);
  } finally {
    blocker.close();
  }
});

test('malformed HTTP gets 400, oversized headers 431, and the waypoint keeps serving', async () => {
  const admin = await unusedPort();
  const proc = runWaypoint(['--config', dir, '--admin-address', `127.0.0.1:${admin}`, '--metrics-address', `127.0.0.1:${await unusedPort()}`]);
  try {
    await waitReady(admin, proc);
    const raw = (payload: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = net.connect(80, vip(1), () => s.write(payload));
        let text = '';
        s.on('data', (c: Buffer) => (text += c.toString()));
        s.on('end', () => resolve(text));
        s.on('error', reject);
      });
    assert.match(await raw('GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await raw('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await raw(`GET / HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(70 * 1024)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
    const ok = await request(vip(1), 80);
    assert.deepEqual([ok.status, ok.body], [200, 'done']);
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exit;
  }
});

test('validate exits non-zero on errors and prints the file and line', async () => {
  const bad = path.join(dir, 'bad.yaml');
  const broken = await mkdtemp(path.join(os.tmpdir(), 'waypoint-bad-'));
  await writeFile(path.join(broken, 'bad.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports:\n    - port: 99999\n');
  const child = spawn(process.execPath, [MAIN, 'validate', '--config', broken], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await rm(broken, { recursive: true, force: true });
  assert.equal(code, 1);
  assert.match(out, /bad\.yaml:7: error: Service default\/x: spec\.ports\[0\]\.port: must be 1-65535 \[invalid-field\]/);
  assert.ok(!bad.endsWith('x'));
});
