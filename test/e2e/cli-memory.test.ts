// End to end with the real CLI process (issue #13, RSS): `waypoint run` loads the OpenTelemetry SDK and undici
// only when the config needs them, and holds V8's young generation to its cap. A preload module reports what
// the process loaded and its semi-space size when it exits.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Backend, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { type OtlpReceiver, startOtlpReceiver } from '../harness/otlp-receiver.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const MiB = 1024 * 1024;

// ES modules (jose) are not in require.cache: a resolve hook notes every jose file the process loads.
const ESM_HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/node_modules/jose/')) appendFileSync(process.env.WAYPOINT_TEST_REPORT + '.jose', resolved.url + '\\n');
  return resolved;
}
`;

const REPORTER = `import { createRequire, register } from 'node:module';
import { existsSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
register('./esm-hooks.mjs', import.meta.url);
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const packages = new Set();
  for (const file of Object.keys(require.cache)) {
    const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file);
    if (m !== null) packages.add(m[1]);
  }
  if (existsSync(process.env.WAYPOINT_TEST_REPORT + '.jose')) packages.add('jose');
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  writeFileSync(process.env.WAYPOINT_TEST_REPORT, JSON.stringify({ packages: [...packages], semiSpaceBytes: young.space_size / 2 }));
});
`;

interface Report {
  readonly packages: string[];
  readonly semiSpaceBytes: number;
}

const vip = vipRange();
let dir: string;
let web: Backend;
let receiver: OtlpReceiver;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-memory-'));
  web = await startBackend('web');
  receiver = await startOtlpReceiver();
  await writeFile(path.join(dir, 'reporter.mjs'), REPORTER);
  await writeFile(path.join(dir, 'esm-hooks.mjs'), ESM_HOOKS);
});

after(async () => {
  await web.close();
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `waypoint run --workers 1` on `yaml`, sends `requests` requests, stops it and returns its report. */
async function runAndReport(name: string, yaml: string, meshConfig: string | undefined, requests: number, headers: Record<string, string> = {}): Promise<Report> {
  await writeFile(path.join(dir, `${name}.yaml`), yaml);
  const meshFile = path.join(dir, `${name}-mesh.yaml`);
  if (meshConfig !== undefined) await writeFile(meshFile, meshConfig);
  const admin = await unusedPort();
  const reportFile = path.join(dir, `${name}-report.json`);
  const args = [
    '--import', pathToFileURL(path.join(dir, 'reporter.mjs')).href, MAIN, 'run', '--config', path.join(dir, `${name}.yaml`),
    '--admin-address', `127.0.0.1:${admin}`, '--metrics-address', `127.0.0.1:${await unusedPort()}`, '--workers', '1', '--drain-timeout', '1s',
    ...(meshConfig === undefined ? [] : ['--mesh-config', meshFile]),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WAYPOINT_TEST_REPORT: reportFile } });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await request('127.0.0.1', admin, { path: '/healthz/ready' }).catch(() => undefined);
      if (res?.status === 200) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`not ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < requests; i++) {
      const res = await request(vip(1), 80, { path: `/r${i}`, headers });
      assert.equal(res.status, 200, `request ${i}: ${res.status}`);
    }
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exit, 0, stderr);
  return JSON.parse(await readFile(reportFile, 'utf8')) as Report;
}

test('without tracing, JWT, ext_authz or Wasm modules: no OpenTelemetry SDK, undici or jose; young generation within its 8 MiB cap', async () => {
  const yaml = meshPreamble() + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] }) + `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-get, namespace: default }
spec:
  targetRefs: [{ kind: Service, group: "", name: web }]
  action: ALLOW
  rules: [{ to: [{ operation: { methods: [GET] } }] }]
`;
  const report = await runAndReport('plain', yaml, undefined, 300);
  assert.ok(report.packages.includes('yaml'), `the report sees packages: ${report.packages.join(' ')}`);
  assert.deepEqual(report.packages.filter((p) => p === 'undici' || p === 'jose' || p.startsWith('@opentelemetry/')), []);
  // V8's own policy takes it to 8-16 MiB during startup alone.
  assert.ok(report.semiSpaceBytes <= 8 * MiB, `semi-space ${report.semiSpaceBytes}`);
});

test('with a tracing provider: the SDK loads and the first request\'s span is exported', async () => {
  const yaml = meshPreamble() + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] }) + `---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: tracing, namespace: default }
spec:
  tracing: [{ providers: [{ name: otel }], randomSamplingPercentage: 100 }]
`;
  const mesh = `extensionProviders:
  - name: otel
    opentelemetry:
      service: 127.0.0.1
      port: ${receiver.port}
      http: { path: /v1/traces, timeout: 5s }
`;
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const report = await runAndReport('traced', yaml, mesh, 1, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
  assert.ok(report.packages.includes('@opentelemetry/sdk-trace-base'), report.packages.join(' '));
  // Stopping flushes the batch: the span is at the receiver once the process has exited.
  await receiver.waitForSpans((spans) => spans.some((s) => s.traceId === traceId), 5_000);
});
