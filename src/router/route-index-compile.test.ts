// compile() gives every HTTPRoute routes table a RouteIndex over that very table, and route selection on the
// compiled snapshot goes through it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '../config/compile/index.js';
import type { RouteEntry } from '../config/snapshot.js';
import { parseConfigText } from '../config/source/yaml-documents.js';
import { RequestView } from './request-view.js';
import { RouteIndex } from './route-index.js';
import { selectRouteEntry } from './route-select.js';

/** Counts reads of the table's elements: how many entries a selection looked at. */
function counted(entries: RouteEntry[]): { table: ReadonlyArray<RouteEntry>; reads: () => number } {
  let reads = 0;
  const table = new Proxy(entries, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { table, reads: () => reads };
}

const HEAD = `apiVersion: v1
kind: Namespace
metadata: { name: apps, labels: { istio.io/use-waypoint: waypoint } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: waypoint, namespace: apps }
spec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: apps }
spec: { ports: [{ name: http, port: 80 }] }
`;
const route = (kind: 'HTTPRoute' | 'GRPCRoute', namespace: string, rules: string): string => `---
apiVersion: gateway.networking.k8s.io/v1
kind: ${kind}
metadata: { name: r, namespace: ${namespace} }
spec:
  parentRefs: [{ group: "", kind: Service, name: web, namespace: apps }]
  rules:
${rules}`;
const HTTP_RULES = `  - matches: [{ path: { type: PathPrefix, value: /a } }, { path: { type: Exact, value: /b } }]
    backendRefs: [{ name: web, namespace: apps, port: 80 }]
`;
const GRPC_RULES = `  - matches: [{ method: { service: pkg.Svc, method: Get } }, { method: { service: pkg.Other } }]
    backendRefs: [{ name: web, namespace: apps, port: 80 }]
`;

interface CompileCase {
  readonly name: string;
  readonly yaml: string;
  /** Client namespace whose table is checked (undefined: the producer table). */
  readonly client: string | undefined;
  readonly requests: ReadonlyArray<{ readonly method: string; readonly path: string; readonly want: string | undefined }>;
}
const cases: ReadonlyArray<CompileCase> = [
  { name: 'HTTPRoute producer table', yaml: HEAD + route('HTTPRoute', 'apps', HTTP_RULES), client: undefined,
    requests: [{ method: 'GET', path: '/a/z', want: '/a' }, { method: 'GET', path: '/b', want: '/b' }, { method: 'GET', path: '/b/', want: undefined }, { method: 'GET', path: '/ab', want: undefined }] },
  { name: 'HTTPRoute consumer table (GEP-1294)', yaml: HEAD + route('HTTPRoute', 'ops', HTTP_RULES), client: 'ops',
    requests: [{ method: 'GET', path: '/a', want: '/a' }, { method: 'GET', path: '/c', want: undefined }] },
  { name: 'GRPCRoute producer table', yaml: HEAD + route('GRPCRoute', 'apps', GRPC_RULES), client: undefined,
    requests: [{ method: 'POST', path: '/pkg.Svc/Get', want: '/pkg.Svc/Get' }, { method: 'POST', path: '/pkg.Other/Put', want: '/pkg.Other/' }, { method: 'POST', path: '/pkg.Svc/Put', want: undefined }] },
];
for (const c of cases) {
  test(`compile() indexes the table and selection uses it: ${c.name}`, () => {
    const parsed = parseConfigText(c.yaml, 'test.yaml', 0);
    assert.deepEqual(parsed.diagnostics, []);
    const r = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1 });
    assert.ok(r.ok);
    const http = r.snapshot.services.get('apps/web')?.ports[0]?.http;
    assert.ok(http?.kind === 'routes');
    const table = c.client === undefined ? http.producer : http.consumers.get(c.client);
    const index = c.client === undefined ? http.index?.producer : http.index?.consumers.get(c.client);
    assert.ok(table !== undefined && index !== undefined, 'the table and its index exist');
    assert.equal(index.table, table, 'the index is built over the table selection reads');
    for (const q of c.requests) {
      const view = new RequestView(q.method, q.path, {});
      const got = selectRouteEntry(http, view, c.client);
      assert.equal(got, index.select(view), `${q.path}: selection answers through the index`);
      assert.equal(got?.matchSpec.path.value, q.want, q.path);
    }
    // An index over a counted copy of the table reads only the entry it returns, and nothing for a miss.
    const copy = counted([...table]);
    const counting = new RouteIndex(copy.table);
    for (const q of c.requests) {
      const before = copy.reads();
      counting.select(new RequestView(q.method, q.path, {}));
      assert.ok(copy.reads() - before <= (q.want === undefined ? 0 : 2), `${q.path}: read ${copy.reads() - before} entries`);
    }
  });
}
