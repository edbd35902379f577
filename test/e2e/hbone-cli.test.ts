// The HBONE command line end to end, as a user runs it: `waypoint ca init/issue` write a dev PKI,
// `waypoint run --cert --key --trust-bundle` serves HBONE, `waypoint request` calls a Service through it.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
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
let web: Backend;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-hbone-cli-'));
  web = await startBackend('web');
  await writeFile(path.join(dir, 'mesh.yaml'), meshPreamble() + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] }));
});

after(async () => {
  await web.close();
  await rm(dir, { recursive: true, force: true });
});

test('ca init writes a root CA (key 0600) and refuses to overwrite it without --force', async () => {
  const ca = path.join(dir, 'ca');
  const first = await cli(['ca', 'init', '--dir', ca]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal((await stat(path.join(ca, 'ca-key.pem'))).mode & 0o777, 0o600);
  assert.equal(new X509Certificate(await readFile(path.join(ca, 'ca-cert.pem'))).ca, true);
  const again = await cli(['ca', 'init', '--dir', ca]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds a CA .* pass --force/);
});

const issues: ReadonlyArray<{ name: string; args: string[]; code: number; out: RegExp }> = [
  { name: 'a workload certificate', args: ['--spiffe', 'spiffe://cluster.local/ns/client/sa/sleep', '--out', 'sleep'], code: 0, out: /spiffe:\/\/cluster.local\/ns\/client\/sa\/sleep, valid until/ },
  { name: 'with a lifetime', args: ['--spiffe', 'spiffe://cluster.local/ns/default/sa/waypoint', '--out', 'waypoint', '--ttl', '2h'], code: 0, out: /valid until/ },
  { name: 'not a SPIFFE ID', args: ['--spiffe', 'https://cluster.local/ns/a/sa/b', '--out', 'bad'], code: 1, out: /is not a SPIFFE ID/ },
];
for (const c of issues) {
  test(`ca issue: ${c.name}`, async () => {
    const ca = path.join(dir, 'ca');
    const r = await cli(['ca', 'issue', '--dir', ca, ...c.args.map((a, i) => (c.args[i - 1] === '--out' ? path.join(dir, a) : a))]);
    assert.equal(r.code, c.code, r.stderr);
    assert.match(c.code === 0 ? r.stdout : r.stderr, c.out);
  });
}

test('run --cert/--key/--trust-bundle serves HBONE; request calls a Service through it as a workload', async () => {
  const ca = path.join(dir, 'ca');
  const [admin, metrics, hbone] = [await unusedPort(), await unusedPort(), await unusedPort()];
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'run', '--config', path.join(dir, 'mesh.yaml'), '--admin-address', `127.0.0.1:${admin}`,
    '--metrics-address', `127.0.0.1:${metrics}`, '--hbone-address', `127.0.0.1:${hbone}`,
    '--cert', path.join(dir, 'waypoint-cert.pem'), '--key', path.join(dir, 'waypoint-key.pem'), '--trust-bundle', path.join(ca, 'ca-cert.pem')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r((exitCode = code))));
  try {
    const deadline = Date.now() + 30_000;
    while ((await request('127.0.0.1', admin, { path: '/healthz/ready' }).catch(() => undefined))?.status !== 200) {
      if (exitCode !== undefined) throw new Error(`waypoint exited (${String(exitCode)}) during startup: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`not ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(stderr, /HBONE listener ready/);
    const ok = await cli(['request', '--cert', path.join(dir, 'sleep-cert.pem'), '--key', path.join(dir, 'sleep-key.pem'), '--trust-bundle', path.join(ca, 'ca-cert.pem'),
      '--via', `127.0.0.1:${hbone}`, '-H', 'x-test: yes', '-d', 'hello', 'post', `http://${vip(1)}/from-cli`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^HTTP\/1.1 200 OK\n/);
    const body = JSON.parse(ok.stdout.slice(ok.stdout.indexOf('\n\n') + 2));
    assert.deepEqual([body.method, body.path, body.headers['x-test'], body.bodyBytes], ['POST', '/from-cli', 'yes', 5]);

    const missing = await cli(['request', '--cert', path.join(dir, 'sleep-cert.pem'), '--key', path.join(dir, 'sleep-key.pem'), '--trust-bundle', path.join(ca, 'ca-cert.pem'),
      '--via', `127.0.0.1:${hbone}`, 'GET', `http://${vip(9)}/`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /refused the tunnel to .*: 404 no Service or workload served by this waypoint/);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  assert.equal(exitCode, 0, `exit status after SIGTERM; stderr: ${stderr}`);
});

test('run refuses a certificate outside the trust domain, naming the file', async () => {
  const ca = path.join(dir, 'ca');
  const r = await cli(['run', '--config', path.join(dir, 'mesh.yaml'), '--admin-address', `127.0.0.1:${await unusedPort()}`, '--metrics-address', `127.0.0.1:${await unusedPort()}`,
    '--hbone-address', `127.0.0.1:${await unusedPort()}`, '--cert', path.join(dir, 'waypoint-cert.pem'), '--key', path.join(dir, 'waypoint-key.pem'),
    '--trust-bundle', path.join(ca, 'ca-cert.pem'), '--trust-domain', 'example.org']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /waypoint-cert\.pem: identity spiffe:\/\/cluster.local\/ns\/default\/sa\/waypoint is not in trust domain "example.org"/);
});

test('--cert without --key and --trust-bundle is a usage error', async () => {
  const r = await cli(['run', '--config', path.join(dir, 'mesh.yaml'), '--cert', path.join(dir, 'waypoint-cert.pem')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--cert, --key and --trust-bundle go together/);
});
