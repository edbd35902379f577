// Status written back to the (fake) API server: route parents, Gateway and listeners, GatewayClass,
// Service WaypointBound; only when something changed; 409 Conflict retried; other controllers' entries kept.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { whoAnswers } from '../harness/client.js';
import { vipRange } from '../harness/config.js';
import { FakeApiServer } from '../harness/fake-apiserver.js';
import type { Obj } from '../harness/fake-apiserver-store.js';
import { endpointSlice, eventually, gateway, gatewayClass, httpRoute, namespace, service, startKubeWaypoint } from '../harness/fake-apiserver-mesh.js';
import type { KubernetesWaypoint } from '../../src/cli/kubernetes-mode.js';

let v1: Backend;
let v2: Backend;

before(async () => {
  v1 = await startBackend('reviews-v1');
  v2 = await startBackend('reviews-v2');
});

after(async () => {
  await v1.close();
  await v2.close();
});

const OURS = 'waypoint.dev/gateway-controller';

interface Mesh {
  readonly api: FakeApiServer;
  readonly vip: (n: number) => string;
  readonly wp: KubernetesWaypoint;
  close(): Promise<void>;
}

async function mesh(seed: (api: FakeApiServer) => void = () => {}, gatewayClassName = 'waypoint'): Promise<Mesh> {
  const api = await FakeApiServer.start();
  const vip = vipRange();
  api.create(namespace('default'));
  api.create(namespace('other', {}));
  api.create(gatewayClass());
  api.create(gateway('waypoint', 'default', gatewayClassName));
  api.create(service('waypoint', '10.96.0.10', { port: 15008 }));
  api.create(service('reviews', vip(1)));
  api.create(endpointSlice('reviews', [`127.0.0.1:${v1.port}`]));
  api.create(service('reviews-v2', vip(2)));
  api.create(endpointSlice('reviews-v2', [`127.0.0.1:${v2.port}`]));
  api.create(service('plain', vip(3), { ns: 'other' }));
  api.create(httpRoute('reviews', 'reviews', 'reviews-v2'));
  seed(api);
  const wp = await startKubeWaypoint(api);
  return { api, vip, wp, close: async () => { await wp.stop(); await api.close(); } };
}

function status(o: Obj): Obj {
  return (o['status'] ?? {}) as Obj;
}

function parents(api: FakeApiServer, name: string, ns = 'default'): Obj[] {
  return (status(api.get('HTTPRoute', ns, name))['parents'] ?? []) as Obj[];
}

function cond(list: unknown, type: string): Obj | undefined {
  return (Array.isArray(list) ? (list as Obj[]) : []).find((c) => c['type'] === type);
}

/** The writer has run and has nothing left to do. */
async function settled(m: Mesh): Promise<void> {
  await eventually(() => assert.ok(m.wp.writer !== undefined && m.wp.writer.stats.passes > 0 && !m.wp.writer.busy));
}

const routeWrites = (api: FakeApiServer, name: string): number => api.statusWrites((r) => r.path.endsWith(`/httproutes/${name}/status`)).length;

test('writes route parents, Gateway and listener conditions, the GatewayClass and Service WaypointBound', async () => {
  const m = await mesh();
  try {
    await eventually(() => assert.equal(parents(m.api, 'reviews').length, 1));
    const [parent] = parents(m.api, 'reviews');
    assert.deepEqual(parent?.['parentRef'], { group: '', kind: 'Service', name: 'reviews', port: 80 });
    assert.equal(parent?.['controllerName'], OURS);
    const accepted = cond(parent?.['conditions'], 'Accepted');
    assert.deepEqual([accepted?.['status'], accepted?.['reason'], accepted?.['observedGeneration']], ['True', 'Accepted', 1]);
    assert.match(String(accepted?.['lastTransitionTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(cond(parent?.['conditions'], 'ResolvedRefs')?.['status'], 'True');

    await eventually(() => assert.ok(cond(status(m.api.get('Gateway', 'default', 'waypoint'))['conditions'], 'Programmed')));
    const gw = status(m.api.get('Gateway', 'default', 'waypoint'));
    assert.equal(cond(gw['conditions'], 'Accepted')?.['status'], 'True');
    const [listener] = gw['listeners'] as Obj[];
    assert.equal(listener?.['name'], 'mesh');
    assert.equal(listener?.['attachedRoutes'], 0, 'Service-attached routes do not count against the Gateway');
    assert.deepEqual((listener?.['supportedKinds'] as Obj[]).map((k) => k['kind']), ['HTTPRoute', 'GRPCRoute']);
    assert.equal(cond(listener?.['conditions'], 'Accepted')?.['status'], 'True');
    assert.deepEqual(gw['addresses'], [{ type: 'IPAddress', value: '10.96.0.10' }, { type: 'Hostname', value: 'waypoint.default.svc.cluster.local' }]);

    await eventually(() => assert.equal(cond(status(m.api.get('GatewayClass', '', 'waypoint'))['conditions'], 'Accepted')?.['status'], 'True'));
    await eventually(() => {
      const bound = cond(status(m.api.get('Service', 'default', 'reviews'))['conditions'], 'istio.io/WaypointBound');
      assert.deepEqual([bound?.['status'], bound?.['reason'], bound?.['message']], ['True', 'WaypointAccepted', 'Successfully attached to waypoint default/waypoint']);
    });
    await settled(m);
    assert.equal(status(m.api.get('Service', 'other', 'plain'))['conditions'], undefined, 'an unbound Service gets no condition');
  } finally {
    await m.close();
  }
});

test('status is written only when it changes', async () => {
  const m = await mesh();
  try {
    await eventually(() => assert.equal(parents(m.api, 'reviews').length, 1));
    await settled(m);
    const written = m.api.statusWrites().length;
    // A change elsewhere recompiles and re-runs the writer, which finds nothing to change.
    const version = m.wp.waypoint.store.current?.version ?? 0;
    const passes = m.wp.writer?.stats.passes ?? 0;
    m.api.create(namespace('unrelated', {}));
    await eventually(() => assert.ok((m.wp.waypoint.store.current?.version ?? 0) > version));
    await eventually(() => assert.ok((m.wp.writer?.stats.passes ?? 0) > passes));
    await settled(m);
    assert.equal(m.api.statusWrites().length, written, 'an identical status is not written again');
    // A spec change (generation 2) rewrites that route's status once, with the new observedGeneration.
    const before = routeWrites(m.api, 'reviews');
    m.api.update(httpRoute('reviews', 'reviews', 'reviews', { path: '/v1' }));
    await eventually(() => assert.equal(cond(parents(m.api, 'reviews')[0]?.['conditions'], 'Accepted')?.['observedGeneration'], 2));
    await eventually(async () => assert.equal(await whoAnswers(m.vip(1), 80, { path: '/v1' }), 'reviews-v1'));
    assert.equal(routeWrites(m.api, 'reviews'), before + 1);
    // The transition time of a condition whose status did not change is kept.
    const times = (parents(m.api, 'reviews')[0]?.['conditions'] as Obj[]).map((c) => c['lastTransitionTime']);
    assert.equal(new Set(times).size, 1);
  } finally {
    await m.close();
  }
});

test('a 409 Conflict is retried with a fresh read', async () => {
  const m = await mesh();
  try {
    await eventually(() => assert.equal(parents(m.api, 'reviews').length, 1));
    await settled(m);
    m.api.injectConflicts(2, '/httproutes/reviews/');
    m.api.update(httpRoute('reviews', 'reviews', 'reviews', { path: '/v1' }));
    await eventually(() => assert.equal(cond(parents(m.api, 'reviews')[0]?.['conditions'], 'Accepted')?.['observedGeneration'], 2));
    const log = m.api.requests.filter((r) => r.path.includes('/httproutes/reviews'));
    const conflicts = log.filter((r) => r.status === 409);
    assert.equal(conflicts.length, 2);
    assert.ok(log.some((r) => r.method === 'GET' && !r.path.endsWith('/status')), 'the object was read again');
    assert.ok((m.wp.writer?.stats.conflicts ?? 0) >= 2);
    // The concurrent writer's change (an annotation) survived our status write.
    const annotations = (m.api.get('HTTPRoute', 'default', 'reviews')['metadata'] as Obj)['annotations'] as Obj;
    assert.ok(annotations['fake-apiserver/touched'] !== undefined);
  } finally {
    await m.close();
  }
});

test("other controllers' parent entries and conditions are kept", async () => {
  const foreign = { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingress' }, controllerName: 'example.com/ingress', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'theirs', lastTransitionTime: '2024-01-01T00:00:00Z' }] };
  const m = await mesh((api) => {
    api.setStatus('HTTPRoute', 'default', 'reviews', { parents: [foreign] });
    api.setStatus('Service', 'default', 'reviews', { loadBalancer: {}, conditions: [{ type: 'example.com/Other', status: 'True', reason: 'Fine', message: 'x', lastTransitionTime: '2024-01-01T00:00:00Z' }] });
  });
  try {
    await eventually(() => assert.equal(parents(m.api, 'reviews').length, 2));
    assert.deepEqual(parents(m.api, 'reviews')[0], foreign);
    const svc = status(m.api.get('Service', 'default', 'reviews'));
    await eventually(() => assert.ok(cond(status(m.api.get('Service', 'default', 'reviews'))['conditions'], 'istio.io/WaypointBound')));
    assert.ok(cond(status(m.api.get('Service', 'default', 'reviews'))['conditions'], 'example.com/Other'));
    assert.deepEqual(svc['loadBalancer'], {});
  } finally {
    await m.close();
  }
});

test('an invalid route keeps serving its previous version and its status names the field', async () => {
  const m = await mesh();
  try {
    await eventually(() => assert.equal(parents(m.api, 'reviews').length, 1));
    const bad = httpRoute('reviews', 'reviews', 'reviews');
    ((bad['spec'] as Obj)['rules'] as Obj[])[0] = { matches: [{ path: { type: 'Bogus', value: '/' } }], backendRefs: [{ name: 'reviews', port: 80 }] };
    m.api.update(bad);
    await eventually(() => assert.equal(cond(parents(m.api, 'reviews')[0]?.['conditions'], 'Accepted')?.['observedGeneration'], 2));
    const accepted = cond(parents(m.api, 'reviews')[0]?.['conditions'], 'Accepted');
    assert.equal(accepted?.['status'], 'False');
    assert.equal(accepted?.['reason'], 'UnsupportedValue');
    assert.match(String(accepted?.['message']), /previous generation keeps serving.*spec\.rules\[0\]\.matches\[0\]\.path\.type/);
    assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v2', 'the previous version still routes');
    assert.equal(m.wp.waypoint.ready, true);
  } finally {
    await m.close();
  }
});

test('unbinding a Service removes its WaypointBound condition; a removed parentRef loses its entry', async () => {
  const m = await mesh();
  try {
    await eventually(() => assert.ok(cond(status(m.api.get('Service', 'default', 'reviews'))['conditions'], 'istio.io/WaypointBound')));
    m.api.update({ ...service('reviews', m.vip(1), { labels: { 'istio.io/use-waypoint': 'none' } }) });
    await eventually(() => assert.equal(cond(status(m.api.get('Service', 'default', 'reviews'))['conditions'], 'istio.io/WaypointBound'), undefined));
    const route = httpRoute('reviews', 'reviews-v2', 'reviews');
    m.api.update(route);
    await eventually(() => assert.deepEqual(parents(m.api, 'reviews').map((p) => (p['parentRef'] as Obj)['name']), ['reviews-v2']));
  } finally {
    await m.close();
  }
});

test('with the istio-waypoint class, route status uses Istio\'s controller name', async () => {
  const m = await mesh(() => {}, 'istio-waypoint');
  try {
    await eventually(() => assert.equal(parents(m.api, 'reviews')[0]?.['controllerName'], 'istio.io/gateway-controller'));
    assert.equal(status(m.api.get('GatewayClass', '', 'waypoint'))['conditions'], undefined, 'our GatewayClass is not claimed by an istio-waypoint waypoint');
  } finally {
    await m.close();
  }
});

test('other route kinds get the same treatment: a GRPCRoute on a Service', async () => {
  const grpc = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'grpc', namespace: 'default' }, spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 80 }], rules: [{ matches: [{ method: { service: 'reviews.Reviews' } }], backendRefs: [{ name: 'reviews-v2', port: 80 }] }] } };
  const m = await mesh((api) => api.create(grpc));
  try {
    await eventually(() => assert.equal(((status(m.api.get('GRPCRoute', 'default', 'grpc'))['parents'] ?? []) as Obj[]).length, 1));
    const [parent] = status(m.api.get('GRPCRoute', 'default', 'grpc'))['parents'] as Obj[];
    assert.equal(parent?.['controllerName'], OURS);
    assert.equal(cond(parent?.['conditions'], 'Accepted')?.['status'], 'True');
  } finally {
    await m.close();
  }
});

test('AuthorizationPolicies get WaypointAccepted: True when they target this waypoint, False when their target is missing', async () => {
  const policy = (name: string, targetRef: Obj): Obj => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'default' }, spec: { targetRefs: [targetRef], action: 'ALLOW', rules: [{}] } });
  const m = await mesh((api) => {
    api.create(policy('on-waypoint', { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }));
    api.create(policy('on-nothing', { group: '', kind: 'Service', name: 'missing' }));
  });
  try {
    const accepted = (name: string): Obj | undefined => cond(status(m.api.get('AuthorizationPolicy', 'default', name))['conditions'], 'WaypointAccepted');
    await eventually(() => assert.equal(accepted('on-waypoint')?.['status'], 'True'));
    await eventually(() => assert.equal(accepted('on-nothing')?.['status'], 'False'));
    assert.equal(accepted('on-nothing')?.['reason'], 'TargetNotFound');
    assert.equal(accepted('on-waypoint')?.['observedGeneration'], 1);
  } finally {
    await m.close();
  }
});

test('--no-write-status never writes', async () => {
  const api = await FakeApiServer.start();
  const vip = vipRange();
  for (const o of [namespace('default'), gateway(), service('reviews', vip(1)), endpointSlice('reviews', [`127.0.0.1:${v1.port}`]), httpRoute('reviews', 'reviews', 'reviews')]) api.create(o);
  const wp = await startKubeWaypoint(api, { writeStatus: false });
  try {
    assert.equal(await whoAnswers(vip(1), 80), 'reviews-v1');
    api.create(namespace('unrelated', {}));
    await eventually(() => assert.ok((wp.waypoint.store.current?.version ?? 0) >= 2));
    assert.equal(api.statusWrites().length, 0);
    assert.equal(api.requests.filter((r) => r.path.includes('/leases')).length, 0);
  } finally {
    await wp.stop();
    await api.close();
  }
});
