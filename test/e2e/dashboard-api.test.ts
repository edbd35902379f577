// End to end: the JSON endpoints behind the dashboard. /debug/stats counts each request once per Service
// and route rule with 5xx and denials apart, keeps a bounded list of recent failures with what decided
// them, validates its parameters and shares one cached body between clients; /debug/summary lists
// Services, routes with status, policies with where they are enforced, diagnostics and the admin binding.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TrafficStats } from '../../src/debug/traffic-stats.js';
import { DEFAULT_FAILURE_CAPACITY } from '../../src/debug/traffic-stats.js';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
const WEB = vip(1);
const EMPTY = vip(2);
let mesh: TestMesh;
let backend: Backend;

before(async () => {
  backend = await startBackend('web');
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'web', vip: WEB, endpoints: [`127.0.0.1:${backend.port}`] }),
      serviceYaml({ name: 'empty', vip: EMPTY, endpoints: [] }),
      `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /app}}]
    backendRefs: [{name: web, port: 80}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-secrets, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: web}]
  action: DENY
  rules:
  - to: [{operation: {paths: ["/app/secret*"]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: broken, namespace: default}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - matches: [{path: {type: Bogus, value: /x}}]
    backendRefs: [{name: web, port: 80}]
`,
    ].join('\n'),
  });
});

after(async () => {
  await mesh?.close();
  await backend?.close();
});

async function admin(path: string): Promise<{ status: number; body: string }> {
  const [host, port] = mesh.admin.split(':');
  const res = await request(host ?? '127.0.0.1', Number(port), { path });
  return { status: res.status, body: res.body };
}

/** Stats once `ready` holds (the window ends at the last complete second, so new requests show up to 1 s later). */
async function statsWhen(ready: (s: TrafficStats) => boolean, query = '?window=60&points=5'): Promise<TrafficStats> {
  for (let i = 0; i < 60; i++) {
    const res = await admin(`/debug/stats${query}`);
    assert.equal(res.status, 200, res.body);
    const stats = JSON.parse(res.body) as TrafficStats;
    if (ready(stats)) return stats;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('stats never got there');
}

test('/debug/stats: per Service and per rule, 5xx and denials apart, failures with what decided', async () => {
  for (let i = 0; i < 6; i++) assert.equal((await request(WEB, 80, { path: '/app/x' })).status, 200);
  assert.equal((await request(WEB, 80, { path: '/app/secret?token=abc' })).status, 403);
  assert.equal((await request(WEB, 80, { path: '/nowhere' })).status, 404);
  assert.equal((await request(EMPTY, 80, { path: '/' })).status, 503);
  const stats = await statsWhen((s) => s.total.summary.requests >= 9);
  const web = stats.services.find((s) => s.key === 'default/web');
  assert.deepEqual({ requests: web?.summary.requests, errors: web?.summary.errors, denied: web?.summary.denied }, { requests: 8, errors: 0, denied: 1 });
  assert.ok((web?.summary.p50 ?? 0) > 0);
  assert.equal(web?.points?.requests.length, 5);
  const empty = stats.services.find((s) => s.key === 'default/empty');
  assert.deepEqual({ requests: empty?.summary.requests, errors: empty?.summary.errors, errorRate: empty?.summary.errorRate }, { requests: 1, errors: 1, errorRate: 1 });
  // Only routed requests count for a rule: the denial happened before routing, the 404 matched no rule.
  assert.equal(stats.routes.find((r) => r.key === 'default.web.0')?.summary.requests, 6);
  const byStatus = new Map(stats.failures.map((f) => [f.status, f]));
  assert.deepEqual([...byStatus.keys()].sort(), [403, 404, 503]);
  assert.deepEqual({ ...byStatus.get(403), time: 0 }, {
    time: 0, service: 'default/web', route: '-', method: 'GET', path: '/app/secret?token=[redacted]', source: '127.0.0.1', status: 403, flags: '-',
    details: 'rbac_access_denied_matched_policy[ns[default]-policy[no-secrets]-rule[0]]', authz: 'deny:default/no-secrets#rule0',
  });
  assert.equal(byStatus.get(404)?.flags, 'NR');
  assert.deepEqual([byStatus.get(503)?.flags, byStatus.get(503)?.route], ['UH', 'service-default']);
});

test('/debug/stats: the failure list is bounded', async () => {
  for (let i = 0; i < DEFAULT_FAILURE_CAPACITY + 20; i++) await request(WEB, 80, { path: '/nowhere' });
  const stats = await statsWhen((s) => (s.services.find((x) => x.key === 'default/web')?.summary.requests ?? 0) >= DEFAULT_FAILURE_CAPACITY + 20);
  assert.equal(stats.failures.length, DEFAULT_FAILURE_CAPACITY);
  assert.ok(stats.failures.every((f) => f.status === 404), 'the newest failures are kept');
});

test('/debug/stats: parameters are validated; clients polling together share one body', async () => {
  for (const q of ['?window=0', '?window=61', '?points=61', '?window=abc', '?points=-1']) assert.equal((await admin(`/debug/stats${q}`)).status, 400, q);
  const [a, b] = await Promise.all([admin('/debug/stats?window=5&points=0'), admin('/debug/stats?window=5&points=0')]);
  assert.equal(a.body, b.body);
  const stats = JSON.parse(a.body) as TrafficStats;
  assert.equal(stats.summarySeconds, 5);
  assert.equal(stats.total.points, undefined);
});

interface Summary {
  readonly waypoint: string;
  readonly admin: { readonly loopback: boolean; readonly warning?: string };
  readonly services: ReadonlyArray<{ readonly key: string; readonly vip: string }>;
  readonly routes: ReadonlyArray<{ readonly key: string; readonly parents: ReadonlyArray<{ readonly parent: string; readonly conditions: ReadonlyArray<{ readonly type: string; readonly status: string; readonly reason: string }> }>; readonly rules: ReadonlyArray<{ readonly entry: string; readonly match: string; readonly action: string }> }>;
  readonly policies: ReadonlyArray<{ readonly key: string; readonly action: string; readonly enforcedBy: string }>;
  readonly diagnostics: { readonly counts: { readonly error: number }; readonly items: ReadonlyArray<{ readonly resource: string | null; readonly line: number | null; readonly message: string }> };
  readonly decisionHeader: unknown;
}

test('/debug/summary: Services, routes with status, policies, diagnostics and the admin binding', async () => {
  const res = await admin('/debug/summary');
  assert.equal(res.status, 200);
  const s = JSON.parse(res.body) as Summary;
  assert.equal(s.waypoint, 'default/waypoint');
  assert.deepEqual(s.admin.loopback, true);
  assert.equal(s.admin.warning, undefined);
  assert.deepEqual(s.services.map((x) => [x.key, x.vip]), [['default/empty', EMPTY], ['default/web', WEB]]);
  const web = s.routes.find((r) => r.key === 'default/web');
  assert.equal(web?.parents[0]?.parent, 'Service web:80');
  assert.ok(web?.parents[0]?.conditions.some((c) => c.type === 'Accepted' && c.status === 'True'));
  assert.deepEqual(web?.rules.map((r) => [r.entry, r.match, r.action]), [['default.web.0', 'PathPrefix /app', 'default/web:80 (1)']]);
  assert.deepEqual(s.policies.map((p) => [p.key, p.action, p.enforcedBy]), [['default/no-secrets', 'DENY', 'this-waypoint']]);
  assert.ok(s.diagnostics.counts.error > 0);
  const broken = s.diagnostics.items.filter((d) => d.resource === 'HTTPRoute default/broken');
  assert.ok(broken.length > 0, JSON.stringify(s.diagnostics.items));
  assert.equal(typeof broken[0]?.line, 'number');
  assert.equal(s.decisionHeader, null);
});
