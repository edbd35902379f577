// End to end in a real headless Chromium: the dashboard served by the admin server loads with no console
// errors, lists the mesh's Services, routes and policies, its charts move when traffic flows, and a
// request denied by an AuthorizationPolicy shows up in the recent-failures list with that policy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type HeadlessChromium, launchChromium, until } from '../../scripts/headless-chromium.js';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
const WEB = vip(1);
const API = vip(2);
let mesh: TestMesh;
let backend: Backend;
let browser: HeadlessChromium;
let page: Page;
const consoleErrors: string[] = [];

const config = (ep: string[]): string => [
  meshPreamble(),
  serviceYaml({ name: 'web', vip: WEB, endpoints: ep }),
  serviceYaml({ name: 'api', vip: API, endpoints: ep }),
  `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-split, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, port: 80}]
  - backendRefs: [{name: web, port: 80}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-admin, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: web}]
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin/*"]}}]
`,
].join('\n');

before(async () => {
  backend = await startBackend('web');
  mesh = await startMesh({ 'mesh.yaml': config([`127.0.0.1:${backend.port}`]) });
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(async () => {
  await browser?.close();
  await mesh?.close();
  await backend?.close();
});

const adminUrl = (path: string): string => `http://${mesh.admin}${path}`;

async function send(path: string, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await request(WEB, 80, { path })).status);
  return statuses;
}

test('the page loads at / with no console errors and lists Services, routes and policies', async () => {
  const res = await page.goto(adminUrl('/'));
  assert.equal(res?.status(), 200);
  await page.waitForSelector('#services tr[data-service="default/web"]', { timeout: 15_000 });
  await page.waitForSelector('#services tr[data-service="default/api"]');
  const route = await page.locator('#routes tr[data-route="default/web-split"]').allTextContents();
  assert.equal(route.length, 2, 'one row per rule');
  assert.match(route[0] ?? '', /Accepted/);
  assert.match(route[0] ?? '', /PathPrefix \/api/);
  assert.match(route[1] ?? '', /default\/web:80 \(1\)/);
  const policy = await page.locator('#policies tr[data-policy="default/no-admin"]').textContent();
  assert.match(policy ?? '', /DENY.*this-waypoint/);
  assert.equal(await page.locator('#exposure').isHidden(), true, 'admin is on loopback: no warning');
  assert.match(await page.locator('#gateway').textContent() ?? '', /default\/waypoint/);
  // Polled from Node: the page's CSP forbids the eval that page.waitForFunction would need.
  await until('the page has polled /debug/stats twice', async () => Number(await page.locator('body').getAttribute('data-stats-updates')) >= 2);
  assert.deepEqual(consoleErrors, []);
});

test('charts and rates move when traffic flows', async () => {
  const before = await page.locator('#chart-rps').getAttribute('data-sum');
  assert.equal(before, '0', 'no traffic yet');
  assert.deepEqual(new Set(await send('/hello', 15)), new Set([200]));
  assert.deepEqual(new Set(await send('/api/items', 5)), new Set([200]));
  // The page polls every second: wait for the next refresh to carry the requests.
  await until('the rate chart shows the 20 requests', async () => Number(await page.locator('#chart-rps').getAttribute('data-sum')) >= 20);
  const rps = Number(await page.locator('#kpi-rps').textContent());
  assert.ok(rps > 0, `request rate shown: ${rps}`);
  assert.notEqual(await page.locator('#kpi-p50').textContent(), '–', 'latency percentiles shown');
  const latencyPoints = Number(await page.locator('#chart-latency').getAttribute('data-max'));
  assert.ok(latencyPoints > 0, 'latency chart has points');
  const webRow = await page.locator('#services tr[data-service="default/web"] td.rps').textContent();
  assert.ok(Number(webRow) > 0, `per-Service rate: ${webRow}`);
  // Per-rule traffic: the /api rule and the default rule both show a rate.
  await until('both rules show a rate', async () => (await page.locator('#routes tr[data-route="default/web-split"] td.num:nth-child(6)').allTextContents()).every((t) => Number(t) > 0));
  assert.deepEqual(consoleErrors, []);
});

test('a denied request appears in recent failures with the policy that decided', async () => {
  assert.deepEqual(await send('/admin/users', 1), [403]);
  const row = page.locator('#failures tr[data-status="403"]').first();
  await row.waitFor({ timeout: 10_000 });
  assert.match(await row.locator('td.decided').textContent() ?? '', /authz deny:default\/no-admin#rule0/);
  assert.match(await row.textContent() ?? '', /GET \/admin\/users/);
  assert.match(await row.textContent() ?? '', /rbac_access_denied_matched_policy\[ns\[default\]-policy\[no-admin\]-rule\[0\]\]/);
  // Rates count whole seconds, the failure list is immediate: wait for the second with the denial to close.
  await until('the denied rate counts the denial', async () => Number(await page.locator('#kpi-denied').textContent()) > 0);
  assert.deepEqual(consoleErrors, []);
});

test('/dashboard serves the same page, and / stays plain text for curl', async () => {
  const res = await page.goto(adminUrl('/dashboard'));
  assert.equal(res?.status(), 200);
  assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await page.waitForSelector('#services tr[data-service="default/web"]');
  const [host, port] = mesh.admin.split(':');
  const text = await request(host ?? '127.0.0.1', Number(port), { path: '/' });
  assert.match(text.headers['content-type'] ?? '', /text\/plain/);
  assert.match(text.body, /\/dashboard/);
  assert.deepEqual(consoleErrors, []);
});
