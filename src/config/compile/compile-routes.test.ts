// Tests for compile(): HTTPRoute parentRef status (Accepted / ResolvedRefs / PartiallyInvalid /
// ResolvedWaypoints with reasons and messages) and Service parentRef port / sectionName matching.
// (Split from compile.test.ts to keep files short; the small YAML builders are repeated on purpose.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectRoute } from '../../proxy/http-router.js';
import { RequestView } from '../../router/request-view.js';
import { parseConfigText } from '../source/yaml-documents.js';
import type { Condition } from '../status.js';
import { compile, type CompileResult } from './index.js';

type Obj = Readonly<Record<string, unknown>>;
function doc(apiVersion: string, kind: string, metadata: Obj, body: Obj = {}): string {
  const rest = Object.entries(body).map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: ${JSON.stringify(metadata)}\n${rest}`;
}
const GW_API = 'gateway.networking.k8s.io/v1';
const ns = (name: string, labels: Obj = {}): string => doc('v1', 'Namespace', { name, labels });
const gateway = (namespace: string, name: string, className = 'istio-waypoint'): string =>
  doc(GW_API, 'Gateway', { name, namespace }, { spec: { gatewayClassName: className, listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } });
const service = (namespace: string, name: string, ports: ReadonlyArray<Obj> = [{ name: 'http', port: 80 }]): string =>
  doc('v1', 'Service', { name, namespace }, { spec: { ports } });
const route = (namespace: string, name: string, spec: Obj, meta: Obj = {}): string => doc(GW_API, 'HTTPRoute', { name, namespace, ...meta }, { spec });
const svcParent = (name: string, extra: Obj = {}): Obj => ({ group: '', kind: 'Service', name, ...extra });
const backend = (name: string, extra: Obj = {}): Obj => ({ name, port: 80, ...extra });

/** Namespace `apps` enrolled in its waypoint, Services web (ports 80 "http" and 81 "metrics") and v2; `plain` is not enrolled. */
const BASE = [
  ns('apps', { 'istio.io/use-waypoint': 'waypoint' }), gateway('apps', 'waypoint'),
  service('apps', 'web', [{ name: 'http', port: 80 }, { name: 'metrics', port: 81 }]), service('apps', 'v2'),
  ns('plain'), service('plain', 'bare'),
];

function run(docs: ReadonlyArray<string>): CompileResult {
  const parsed = parseConfigText([...BASE, ...docs].join('---\n'), 'test.yaml', 0);
  assert.deepEqual(parsed.diagnostics, [], 'the test input parses');
  const r = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1 });
  assert.ok(r.ok, 'the config compiles');
  return r;
}
function statusOf(r: CompileResult, key: string): ReadonlyArray<{ parentRef: Obj; conditions: ReadonlyArray<Condition> }> {
  const status = r.ok ? r.snapshot.status : r.status;
  const found = status.routes.find((s) => `${s.namespace}/${s.name}` === key);
  assert.ok(found !== undefined, `no status for route ${key}`);
  return found.parents;
}
const short = (cs: ReadonlyArray<Condition> | undefined): string[] => (cs ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
const messages = (cs: ReadonlyArray<Condition> | undefined): Record<string, string> => Object.fromEntries((cs ?? []).map((c) => [c.type, c.message]));

// ---- statuses -----------------------------------------------------------------------------------

interface StatusCase {
  readonly name: string;
  readonly docs: ReadonlyArray<string>;
  readonly route: string;
  readonly conditions: ReadonlyArray<string>;
  readonly messages?: Readonly<Record<string, string | RegExp>>;
}

const ACCEPTED = 'Accepted=True/Accepted';
const WAYPOINTS = 'ResolvedWaypoints=True/ResolvedWaypoints';
const REFS = 'ResolvedRefs=True/ResolvedRefs';

const statusCases: ReadonlyArray<StatusCase> = [
  {
    name: 'a valid route on an enrolled Service is Accepted with every reference and waypoint resolved',
    docs: [route('apps', 'r', { parentRefs: [svcParent('web')], rules: [{ backendRefs: [backend('v2')] }] })],
    route: 'apps/r', conditions: [ACCEPTED, WAYPOINTS, REFS],
    messages: { Accepted: 'Route was valid', ResolvedRefs: 'All references resolved', ResolvedWaypoints: /apps\/waypoint/ },
  },
  {
    name: 'a missing parent Service is Accepted=False NoMatchingParent',
    docs: [route('apps', 'r', { parentRefs: [svcParent('ghost')], rules: [{ backendRefs: [backend('v2')] }] })],
    route: 'apps/r', conditions: ['Accepted=False/NoMatchingParent', REFS], messages: { Accepted: 'parent service: "ghost" not found' },
  },
  {
    name: 'a parent Service in another namespace is looked up there',
    docs: [route('apps', 'r', { parentRefs: [svcParent('bare', { namespace: 'plain' })], rules: [{ backendRefs: [backend('v2')] }] })],
    route: 'apps/r', conditions: [ACCEPTED, 'ResolvedWaypoints=False/MissingUseWaypointLabel', REFS],
  },
  {
    name: 'a parent Service without use-waypoint (on it or its namespace) is Accepted but ResolvedWaypoints=False',
    docs: [route('plain', 'r', { parentRefs: [svcParent('bare')], rules: [{ backendRefs: [backend('bare')] }] })],
    route: 'plain/r', conditions: [ACCEPTED, 'ResolvedWaypoints=False/MissingUseWaypointLabel', REFS],
    messages: { ResolvedWaypoints: 'istio.io/use-waypoint label missing from parent and parent namespace; in ambient mode, route will not be respected' },
  },
  {
    name: 'a missing backend Service is ResolvedRefs=False BackendNotFound, the route stays Accepted',
    docs: [route('apps', 'r', { parentRefs: [svcParent('web')], rules: [{ backendRefs: [backend('nope')] }] })],
    route: 'apps/r', conditions: [ACCEPTED, WAYPOINTS, 'ResolvedRefs=False/BackendNotFound'], messages: { ResolvedRefs: 'backend(nope.apps.svc.cluster.local) not found' },
  },
  {
    name: 'a backend port the Service lacks is BackendNotFound',
    docs: [route('apps', 'r', { parentRefs: [svcParent('web')], rules: [{ backendRefs: [backend('v2', { port: 9999 })] }] })],
    route: 'apps/r', conditions: [ACCEPTED, WAYPOINTS, 'ResolvedRefs=False/BackendNotFound'], messages: { ResolvedRefs: 'backend(v2.apps.svc.cluster.local) has no port 9999' },
  },
  {
    name: 'a backendRef of another kind is ResolvedRefs=False InvalidKind',
    docs: [route('apps', 'r', { parentRefs: [svcParent('web')], rules: [{ backendRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'se' }] }] })],
    route: 'apps/r', conditions: [ACCEPTED, WAYPOINTS, 'ResolvedRefs=False/InvalidKind'], messages: { ResolvedRefs: /^unsupported backendRef kind networking\.istio\.io\/ServiceEntry/ },
  },
  {
    name: 'a mesh route (Service parent) may reference a Service in another namespace without a ReferenceGrant (GEP-1294)',
    docs: [route('apps', 'r', { parentRefs: [svcParent('web')], rules: [{ backendRefs: [backend('bare', { namespace: 'plain' })] }] })],
    route: 'apps/r', conditions: [ACCEPTED, WAYPOINTS, REFS],
  },
  {
    name: 'a Gateway-bound route needs a ReferenceGrant for a cross-namespace backendRef: RefNotPermitted',
    docs: [route('apps', 'r', { parentRefs: [{ name: 'waypoint' }], rules: [{ backendRefs: [backend('bare', { namespace: 'plain' })] }] })],
    route: 'apps/r', conditions: [ACCEPTED, 'ResolvedRefs=False/RefNotPermitted'], messages: { ResolvedRefs: /ReferenceGrant in namespace plain allowing HTTPRoute from apps/ },
  },
  {
    name: 'a ReferenceGrant for another namespace does not permit the reference',
    docs: [
      route('apps', 'r', { parentRefs: [{ name: 'waypoint' }], rules: [{ backendRefs: [backend('bare', { namespace: 'plain' })] }] }),
      doc('gateway.networking.k8s.io/v1beta1', 'ReferenceGrant', { name: 'g', namespace: 'plain' }, { spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'elsewhere' }], to: [{ group: '', kind: 'Service' }] } }),
    ],
    route: 'apps/r', conditions: [ACCEPTED, 'ResolvedRefs=False/RefNotPermitted'],
  },
  {
    name: 'a ReferenceGrant without a name in `to` permits every Service of its namespace',
    docs: [
      route('apps', 'r', { parentRefs: [svcParent('web')], rules: [{ backendRefs: [backend('bare', { namespace: 'plain' })] }] }),
      doc('gateway.networking.k8s.io/v1beta1', 'ReferenceGrant', { name: 'g', namespace: 'plain' }, { spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }], to: [{ group: '', kind: 'Service' }] } }),
    ],
    route: 'apps/r', conditions: [ACCEPTED, WAYPOINTS, REFS],
  },
  {
    name: 'one invalid rule of two: Accepted with PartiallyInvalid "Dropped Rule"',
    docs: [route('apps', 'r', { parentRefs: [svcParent('web')], rules: [{ backendRefs: [backend('v2')] }, { matches: [{ path: { type: 'RegularExpression', value: '(' } }], backendRefs: [backend('v2')] }] })],
    route: 'apps/r', conditions: [ACCEPTED, WAYPOINTS, REFS, 'PartiallyInvalid=True/UnsupportedValue'], messages: { PartiallyInvalid: /^Dropped Rule\(s\): 1 of 2 rules/ },
  },
  {
    name: 'every rule invalid: Accepted=False UnsupportedValue, no PartiallyInvalid',
    docs: [route('apps', 'r', { parentRefs: [svcParent('web')], rules: [{ matches: [{ path: { type: 'Exact', value: 'no-slash' } }], backendRefs: [backend('v2')] }] })],
    route: 'apps/r', conditions: ['Accepted=False/UnsupportedValue', REFS],
  },
  {
    name: 'a parentRef of an unsupported kind is NoMatchingParent',
    docs: [route('apps', 'r', { parentRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'se' }], rules: [{ backendRefs: [backend('v2')] }] })],
    route: 'apps/r', conditions: ['Accepted=False/NoMatchingParent', REFS], messages: { Accepted: /^unsupported parentRef kind networking\.istio\.io\/ServiceEntry/ },
  },
  {
    name: 'a Gateway parent of another class is NoMatchingParent',
    docs: [gateway('apps', 'ingress', 'istio'), route('apps', 'r', { parentRefs: [{ name: 'ingress' }], rules: [{ backendRefs: [backend('v2')] }] })],
    route: 'apps/r', conditions: ['Accepted=False/NoMatchingParent', REFS], messages: { Accepted: /is of class "istio", not "istio-waypoint"/ },
  },
  {
    name: 'a parentRef to the waypoint Gateway is Accepted without ResolvedWaypoints',
    docs: [route('apps', 'r', { parentRefs: [{ name: 'waypoint' }], rules: [{ backendRefs: [backend('v2')] }] })],
    route: 'apps/r', conditions: [ACCEPTED, REFS],
  },
];

for (const c of statusCases) {
  test(`route status: ${c.name}`, () => {
    const [parent] = statusOf(run(c.docs), c.route);
    assert.deepEqual(short(parent?.conditions), c.conditions);
    const got = messages(parent?.conditions);
    for (const [type, want] of Object.entries(c.messages ?? {})) {
      if (typeof want === 'string') assert.equal(got[type], want, type);
      else assert.match(got[type] ?? '', want, type);
    }
  });
}

test('route status: each parentRef gets its own status, with defaults filled in and observedGeneration set', () => {
  const r = run([route('apps', 'r', { parentRefs: [svcParent('web'), svcParent('ghost'), { name: 'waypoint' }], rules: [{ backendRefs: [backend('v2')] }] }, { generation: 4 })]);
  const parents = statusOf(r, 'apps/r');
  assert.deepEqual(parents.map((p) => p.parentRef), [
    { group: '', kind: 'Service', name: 'web' },
    { group: '', kind: 'Service', name: 'ghost' },
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' },
  ]);
  assert.deepEqual(parents.map((p) => short(p.conditions)[0]), [ACCEPTED, 'Accepted=False/NoMatchingParent', ACCEPTED]);
  assert.ok(parents.every((p) => p.conditions.every((c) => c.observedGeneration === 4)));
});

// ---- Service parentRef port / sectionName -------------------------------------------------------

const portCases: ReadonlyArray<{ name: string; parent: Obj; attached: ReadonlyArray<number>; message?: string }> = [
  { name: 'no port and no sectionName: every port', parent: {}, attached: [80, 81] },
  { name: 'port 80: only port 80', parent: { port: 80 }, attached: [80] },
  { name: 'sectionName "metrics": only the port of that name', parent: { sectionName: 'metrics' }, attached: [81] },
  { name: 'port and sectionName naming the same port', parent: { port: 81, sectionName: 'metrics' }, attached: [81] },
  { name: 'a port the Service lacks', parent: { port: 9999 }, attached: [], message: 'parent service "web" has no port 9999' },
  { name: 'a sectionName the Service lacks', parent: { sectionName: 'grpc' }, attached: [], message: 'parent service "web" has no port name "grpc"' },
  { name: 'port and sectionName of different ports', parent: { port: 80, sectionName: 'metrics' }, attached: [], message: 'parent service "web" has no port 80 and port name "metrics"' },
];
for (const c of portCases) {
  test(`Service parentRef with ${c.name}`, () => {
    const r = run([route('apps', 'r', { parentRefs: [svcParent('web', c.parent)], rules: [{ backendRefs: [backend('v2')] }] })]);
    assert.ok(r.ok);
    const ports = r.snapshot.services.get('apps/web')?.ports ?? [];
    assert.deepEqual(ports.filter((p) => p.http.kind === 'routes').map((p) => p.port), c.attached);
    const [parent] = statusOf(r, 'apps/r');
    if (c.message === undefined) {
      assert.equal(short(parent?.conditions)[0], ACCEPTED);
      return;
    }
    assert.deepEqual(short(parent?.conditions).slice(0, 1), ['Accepted=False/NoMatchingParent']);
    assert.equal(messages(parent?.conditions)['Accepted'], c.message);
    assert.ok(r.diagnostics.some((d) => d.code === 'parent-not-found' && d.path === 'spec.parentRefs[0]' && d.message === c.message));
  });
}

// ---- producer / consumer groups (GEP-1294) -------------------------------------------------------

test('a consumer route applies to its own namespace only', () => {
  const r = run([route('ops', 'r', { parentRefs: [svcParent('web', { namespace: 'apps' })], rules: [{ backendRefs: [backend('v2', { namespace: 'apps' })] }] })]);
  assert.ok(r.ok);
  const http = r.snapshot.services.get('apps/web')?.ports[0]?.http;
  assert.ok(http !== undefined && http.kind === 'routes');
  assert.deepEqual([...http.consumers.keys()], ['ops']);
  assert.equal(selectRoute(http, new RequestView('GET', '/', {}), 'ops')?.route, 'ops/r');
  assert.notEqual(selectRoute(http, new RequestView('GET', '/', {}), 'other')?.route, 'ops/r');
});

// BUG (compile/services.ts routingFor): with consumer routes but no producer route the producer table is
// empty, so every client outside the consumer namespace gets 404 (route not found). GEP-1294: consumer
// routes "are scoped only the same namespace ... another unrelated namespace cannot modify their traffic";
// other clients must keep the Service's default routing (its own cluster).
test('a consumer route does not change the routing of clients from other namespaces', () => {
  const r = run([route('ops', 'r', { parentRefs: [svcParent('web', { namespace: 'apps' })], rules: [{ backendRefs: [backend('v2', { namespace: 'apps' })] }] })]);
  assert.ok(r.ok);
  const port = r.snapshot.services.get('apps/web')?.ports[0];
  assert.ok(port !== undefined && port.http.kind === 'routes');
  for (const client of ['other', 'apps', undefined]) {
    const entry = selectRoute(port.http, new RequestView('GET', '/any', {}), client);
    const action = entry?.action;
    assert.ok(action !== undefined && action.kind === 'forward', `client namespace ${client ?? '(unknown)'} gets a route`);
    assert.deepEqual(action.backends.targets.map((t) => (t.kind === 'cluster' ? t.cluster.id : t.kind)), [port.cluster.id]);
  }
});
