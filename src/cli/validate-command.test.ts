// Tests for `waypoint validate` (validateCommand): exit code, one compiler-style line per diagnostic,
// the status text listing routes, and the JSON output.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { validateCommand, type ValidateOptions } from './validate-command.js';

const CLEAN = `apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels: {istio.io/use-waypoint: waypoint}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: apps}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec:
  clusterIP: 127.1.0.1
  ports: [{name: http, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: apps}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
    - backendRefs:
        - name: web
          port: 80
`;

/** The clean config with the route's backendRef port removed: one error. */
const BROKEN = CLEAN.replace('          port: 80\n', '');

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-validate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function validate(
  t: { after(fn: () => Promise<void>): void },
  files: Readonly<Record<string, string>>,
  options: Partial<ValidateOptions> = {},
): Promise<{ code: number; out: string; dir: string }> {
  const dir = await tempDir(t);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  let out = '';
  const code = await validateCommand({ config: [dir], waypoint: undefined, clusterDomain: 'cluster.local', output: 'text', ...options }, (s) => {
    out += s;
  });
  return { code, out, dir };
}

test('validate: a clean config exits 0 and lists the waypoint, Services and route status', async (t) => {
  const { code, out } = await validate(t, { 'config.yaml': CLEAN });
  assert.equal(code, 0);
  assert.match(out, /^\nwaypoint:\n {2}Gateway apps\/waypoint: Accepted=True Programmed=True\n/);
  assert.match(out, /\nservices:\n {2}apps\/web: served here \(label on namespace\)\n/);
  assert.match(out, /\nroutes:\n {2}HTTPRoute apps\/web\n {4}parent Service apps\/web:80\n {6}Accepted=True \(Accepted\): Route was valid\n/);
  assert.match(out, / {6}ResolvedRefs=True \(ResolvedRefs\): All references resolved\n/);
  assert.match(out, /\n4 resources, 0 errors, 0 warnings\n$/);
  assert.doesNotMatch(out, /error:/);
});

test('validate: an error exits 1 and is printed as file:line: error: Kind ns/name: path: message [code]', async (t) => {
  const { code, out, dir } = await validate(t, { 'config.yaml': BROKEN });
  assert.equal(code, 1);
  const line = BROKEN.split('\n').indexOf('        - name: web') + 1;
  const file = path.join(dir, 'config.yaml');
  const expected = `${file}:${line}: error: HTTPRoute apps/web: spec.rules[0].backendRefs[0].port: Must have port for Service reference: add the Service port number [invalid-field]`;
  assert.equal(out.split('\n')[0], expected);
  assert.match(out, /\n4 resources, 1 error, 0 warnings\n$/);
});

test('validate: diagnostics of several files are printed in file then line order', async (t) => {
  const bad = 'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: apps}\nextra: 1\n';
  const { code, out, dir } = await validate(t, { 'a.yaml': bad, 'b.yaml': BROKEN, 'c.yaml': bad.replace('name: a', 'name: c') });
  assert.equal(code, 1);
  const lines = out.split('\n').filter((l) => l.includes(': error: '));
  assert.deepEqual(lines.map((l) => path.relative(dir, l.slice(0, l.indexOf(':')))), ['a.yaml', 'b.yaml', 'c.yaml']);
  assert.equal(lines[0], `${path.join(dir, 'a.yaml')}:4: error: Service apps/a: extra: unknown field "extra": Service has "apiVersion", "kind", "metadata", "spec", "status" [unknown-field]`);
});

test('validate: warnings alone exit 0 and are counted', async (t) => {
  const policy = 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: apps}\n';
  const { code, out, dir } = await validate(t, { 'config.yaml': CLEAN, 'policy.yaml': policy });
  assert.equal(code, 0);
  assert.match(out, new RegExp(`^${path.join(dir, 'policy.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: warning: PeerAuthentication apps/p: .* \\[not-yet-applied\\]$`, 'm'));
  assert.match(out, /\n5 resources, 0 errors, 1 warning\n$/);
});

test('validate: no waypoint Gateway exits 1 with a file-less error line', async (t) => {
  const noGateway = CLEAN.split('---\n').filter((d) => !d.includes('kind: Gateway')).join('---\n');
  const { code, out } = await validate(t, { 'config.yaml': noGateway });
  assert.equal(code, 1);
  assert.match(out, /^error: no Gateway of class istio-waypoint in the config: .* \[no-waypoint\]$/m);
  assert.match(out, /\nroutes:\n {2}HTTPRoute apps\/web\n/);
});

test('validate: a missing config path exits 1', async (t) => {
  const dir = await tempDir(t);
  let out = '';
  const code = await validateCommand({ config: [path.join(dir, 'nope.yaml')], waypoint: undefined, clusterDomain: 'cluster.local', output: 'text' }, (s) => {
    out += s;
  });
  assert.equal(code, 1);
  assert.match(out, /nope\.yaml: error: cannot read: .* \[file-unreadable\]/);
});

test('validate --output json: an invalid config gives parseable JSON with valid: false', async (t) => {
  const { code, out } = await validate(t, { 'config.yaml': BROKEN }, { output: 'json' });
  assert.equal(code, 1);
  assert.ok(out.endsWith('}\n'));
  const parsed: unknown = JSON.parse(out);
  assert.ok(typeof parsed === 'object' && parsed !== null);
  const json = parsed as { valid: unknown; diagnostics: Array<{ code: string; severity: string; line: number }>; status: { routes: unknown[] } };
  assert.equal(json.valid, false);
  assert.deepEqual(json.diagnostics.map((d) => [d.severity, d.code]), [['error', 'invalid-field']]);
  assert.equal(json.status.routes.length, 0, 'the rejected route has no status');
});

test('validate --output json: a clean config gives valid: true with the route status', async (t) => {
  const { code, out } = await validate(t, { 'config.yaml': CLEAN }, { output: 'json' });
  assert.equal(code, 0);
  const json = JSON.parse(out) as { valid: unknown; diagnostics: unknown[]; status: { routes: Array<{ name: string }> } };
  assert.equal(json.valid, true);
  assert.deepEqual(json.diagnostics, []);
  assert.deepEqual(json.status.routes.map((r) => r.name), ['web']);
});
