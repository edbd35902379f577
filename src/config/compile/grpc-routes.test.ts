// compile() with GRPCRoutes: validation diagnostics, parentRef status, GRPCRoute > HTTPRoute on a Service
// port (Conflicted), filters compiled, and the route table the data plane uses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectRoute } from '../../proxy/http-router.js';
import { RequestView } from '../../router/request-view.js';
import { parseConfigText } from '../source/yaml-documents.js';
import { compile, type CompileResult } from './index.js';

type Obj = Readonly<Record<string, unknown>>;
function doc(apiVersion: string, kind: string, metadata: Obj, body: Obj = {}): string {
  const rest = Object.entries(body).map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: ${JSON.stringify(metadata)}\n${rest}`;
}
const GW_API = 'gateway.networking.k8s.io/v1';
const BASE = [
  doc('v1', 'Namespace', { name: 'apps', labels: { 'istio.io/use-waypoint': 'waypoint' } }),
  doc(GW_API, 'Gateway', { name: 'waypoint', namespace: 'apps' }, { spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } }),
  doc('v1', 'Service', { name: 'api', namespace: 'apps' }, { spec: { clusterIP: '127.0.0.9', ports: [{ name: 'grpc', port: 9000 }, { name: 'http', port: 8080 }] } }),
  doc('v1', 'Service', { name: 'v1', namespace: 'apps' }, { spec: { ports: [{ name: 'grpc', port: 9000 }] } }),
  doc('v1', 'Service', { name: 'v2', namespace: 'apps' }, { spec: { ports: [{ name: 'grpc', port: 9000 }] } }),
];
const grpcRoute = (name: string, spec: Obj): string => doc(GW_API, 'GRPCRoute', { name, namespace: 'apps' }, { spec });
const httpRoute = (name: string, spec: Obj): string => doc(GW_API, 'HTTPRoute', { name, namespace: 'apps' }, { spec });
const parent = (extra: Obj = {}): Obj => ({ group: '', kind: 'Service', name: 'api', ...extra });

function run(docs: ReadonlyArray<string>): CompileResult & { ok: true } {
  const parsed = parseConfigText([...BASE, ...docs].join('---\n'), 'test.yaml', 0);
  assert.deepEqual(parsed.diagnostics, []);
  const r = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1 });
  assert.ok(r.ok);
  return r;
}
function conditions(r: CompileResult & { ok: true }, kind: string, name: string): string[] {
  const s = r.snapshot.status.routes.find((x) => x.kind === kind && x.name === name);
  return (s?.parents[0]?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}
function routeFor(r: CompileResult & { ok: true }, port: number, path: string, headers: Record<string, string> = {}): string | undefined {
  const p = r.snapshot.services.get('apps/api')?.ports.find((x) => x.port === port);
  assert.ok(p !== undefined && p.http.kind === 'routes');
  const entry = selectRoute(p.http, new RequestView('POST', path, headers), undefined);
  return entry === undefined ? undefined : `${entry.route}#${entry.ruleIndex}`;
}

test('a valid GRPCRoute is Accepted, ResolvedRefs, and routes by service and method', () => {
  const r = run([grpcRoute('g', {
    parentRefs: [parent({ port: 9000 })],
    rules: [
      { matches: [{ method: { service: 'pkg.Api' } }], backendRefs: [{ name: 'v1', port: 9000 }] },
      { matches: [{ method: { service: 'pkg.Api', method: 'Watch' } }], backendRefs: [{ name: 'v2', port: 9000 }] },
    ],
  })]);
  assert.deepEqual(conditions(r, 'GRPCRoute', 'g'), ['Accepted=True/Accepted', 'ResolvedWaypoints=True/ResolvedWaypoints', 'ResolvedRefs=True/ResolvedRefs']);
  assert.equal(routeFor(r, 9000, '/pkg.Api/Watch'), 'apps/g#1');
  assert.equal(routeFor(r, 9000, '/pkg.Api/Get'), 'apps/g#0');
  assert.equal(routeFor(r, 9000, '/other.Api/Get'), undefined);
  // Port 8080 is not a parent of the route: it keeps Service-default routing.
  assert.equal(r.snapshot.services.get('apps/api')?.ports.find((x) => x.port === 8080)?.http.kind, 'service-default');
});

test('GRPCRoute beats HTTPRoute on the same Service port; the HTTPRoute is Conflicted only where it lost every port', () => {
  const r = run([
    grpcRoute('g', { parentRefs: [parent({ port: 9000 })], rules: [{ backendRefs: [{ name: 'v1', port: 9000 }] }] }),
    httpRoute('on-grpc-port', { parentRefs: [parent({ port: 9000 })], rules: [{ backendRefs: [{ name: 'v2', port: 9000 }] }] }),
    httpRoute('all-ports', { parentRefs: [parent()], rules: [{ backendRefs: [{ name: 'v2', port: 9000 }] }] }),
  ]);
  assert.deepEqual(conditions(r, 'HTTPRoute', 'on-grpc-port')[0], 'Accepted=False/Conflicted');
  assert.deepEqual(conditions(r, 'HTTPRoute', 'all-ports')[0], 'Accepted=True/Accepted');
  assert.equal(routeFor(r, 9000, '/x/y'), 'apps/g#0');
  assert.equal(routeFor(r, 8080, '/x/y'), 'apps/all-ports#0');
});

test('unresolvable backends are reported (ResolvedRefs=False) and their share answers 500 → UNAVAILABLE', () => {
  const r = run([grpcRoute('g', { parentRefs: [parent()], rules: [{ backendRefs: [{ name: 'nope', port: 9000 }] }] })]);
  assert.ok(conditions(r, 'GRPCRoute', 'g').includes('ResolvedRefs=False/BackendNotFound'));
  assert.ok(r.diagnostics.some((d) => d.code === 'backend-not-found' && d.resource === 'GRPCRoute apps/g'));
});

test('header modifier filters compile into the rule; ExtensionRef is reported and fails the rule instead of being skipped', () => {
  const r = run([grpcRoute('g', {
    parentRefs: [parent()],
    rules: [
      { matches: [{ method: { service: 'a' } }], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }] } }], backendRefs: [{ name: 'v1', port: 9000 }] },
      { matches: [{ method: { service: 'b' } }], filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x', kind: 'Y', name: 'z' } }], backendRefs: [{ name: 'v1', port: 9000 }] },
    ],
  })]);
  const table = r.snapshot.services.get('apps/api')?.ports[0]?.http;
  assert.ok(table?.kind === 'routes');
  const a = table.producer.find((e) => e.ruleIndex === 0);
  const b = table.producer.find((e) => e.ruleIndex === 1);
  assert.equal(a?.filters.length, 1);
  assert.deepEqual(b?.action, { kind: 'direct', status: 500, details: 'filter_not_supported' });
  assert.ok(r.diagnostics.some((d) => d.resource === 'GRPCRoute apps/g' && d.severity === 'error'));
});

test('validation: a bad method match rejects the GRPCRoute with its field path and line', () => {
  const parsed = parseConfigText([...BASE, grpcRoute('bad', { parentRefs: [parent()], rules: [{ matches: [{ method: { service: 'has/slash' } }] }] })].join('---\n'), 'test.yaml', 0);
  const r = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1 });
  const d = r.diagnostics.find((x) => x.resource === 'GRPCRoute apps/bad');
  assert.ok(d !== undefined);
  assert.equal(d.severity, 'error');
  assert.equal(d.path, 'spec.rules[0].matches[0].method.service');
  assert.ok(typeof d.line === 'number');
  assert.equal(r.rejected.length, 1);
});

test('an invalid RegularExpression drops its rule (PartiallyInvalid) and keeps the others', () => {
  const r = run([grpcRoute('g', {
    parentRefs: [parent()],
    rules: [
      { matches: [{ method: { type: 'RegularExpression', service: '(' } }], backendRefs: [{ name: 'v1', port: 9000 }] },
      { backendRefs: [{ name: 'v2', port: 9000 }] },
    ],
  })]);
  assert.ok(conditions(r, 'GRPCRoute', 'g').includes('PartiallyInvalid=True/UnsupportedValue'));
  assert.equal(routeFor(r, 9000, '/any/Thing'), 'apps/g#1');
});
