// Kubernetes mode end to end: the real client library (client-node ListWatch/Watch, KubeConfig) against
// a fake API server speaking the list/watch protocol; traffic through real VIP listeners to real backends.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request, whoAnswers } from '../harness/client.js';
import { vipRange } from '../harness/config.js';
import { FakeApiServer, type FakeApiServerOptions, ALL_RESOURCES } from '../harness/fake-apiserver.js';
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

interface Mesh {
  readonly api: FakeApiServer;
  readonly vip: (n: number) => string;
  readonly wp: KubernetesWaypoint;
  close(): Promise<void>;
}

/** reviews (→ v1) and reviews-v2 (→ v2) behind the waypoint; `seed` adds objects before the start. */
async function mesh(options: FakeApiServerOptions = {}, seed: (api: FakeApiServer, vip: (n: number) => string) => void = () => {}): Promise<Mesh> {
  const api = await FakeApiServer.start(options);
  const vip = vipRange();
  api.create(namespace('default'));
  api.create(gatewayClass());
  api.create(gateway());
  api.create(service('reviews', vip(1)));
  api.create(endpointSlice('reviews', [`127.0.0.1:${v1.port}`]));
  api.create(service('reviews-v2', vip(2)));
  api.create(endpointSlice('reviews-v2', [`127.0.0.1:${v2.port}`]));
  seed(api, vip);
  const wp = await startKubeWaypoint(api);
  return { api, vip, wp, close: async () => { await wp.stop(); await api.close(); } };
}

const lists = (api: FakeApiServer, plural: string): number => api.requests.filter((r) => !r.watch && r.method === 'GET' && r.path.endsWith(`/${plural}`) && r.status === 200).length;
const watches = (api: FakeApiServer, plural: string) => api.requests.filter((r) => r.watch && r.path.endsWith(`/${plural}`));

test('the first snapshot waits until every kind is listed: no half-synced view is ever served', async () => {
  const api = await FakeApiServer.start();
  const vip = vipRange();
  for (const o of [namespace('default'), gateway(), service('reviews', vip(1)), endpointSlice('reviews', [`127.0.0.1:${v1.port}`]), service('reviews-v2', vip(2)), endpointSlice('reviews-v2', [`127.0.0.1:${v2.port}`]), httpRoute('to-v2', 'reviews', 'reviews-v2')]) api.create(o);
  const release = api.holdLists('httproutes');
  let started: KubernetesWaypoint | undefined;
  const starting = startKubeWaypoint(api).then((wp) => (started = wp));
  try {
    // Every other kind has been listed and watched while HTTPRoutes are held back...
    await eventually(() => assert.ok(watches(api, 'services').length > 0 && watches(api, 'gateways').length > 0));
    // ...and still nothing is served: without the route, reviews would be answered by v1.
    assert.equal(started, undefined);
    await assert.rejects(request(vip(1), 80), /ECONNREFUSED/);
    release();
    const wp = await starting;
    assert.equal(wp.waypoint.ready, true);
    assert.equal(await whoAnswers(vip(1), 80), 'reviews-v2', 'the first snapshot already has the route');
    await wp.stop();
  } finally {
    release();
    await api.close();
  }
});

test('objects created, changed and deleted in the API server reach traffic', async () => {
  const m = await mesh();
  try {
    assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v1');
    // A new Service and its endpoints become routable on their VIP.
    m.api.create(service('ratings', m.vip(3)));
    m.api.create(endpointSlice('ratings', [`127.0.0.1:${v2.port}`]));
    await eventually(async () => assert.equal(await whoAnswers(m.vip(3), 80), 'reviews-v2'));
    // An HTTPRoute on reviews sends it to v2; changing the route's backend sends it back.
    m.api.create(httpRoute('reviews', 'reviews', 'reviews-v2'));
    await eventually(async () => assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v2'));
    m.api.update(httpRoute('reviews', 'reviews', 'ratings'));
    await eventually(async () => assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v2'));
    m.api.update({ ...httpRoute('reviews', 'reviews', 'reviews', { path: '/only' }) });
    await eventually(async () => assert.equal((await request(m.vip(1), 80, { path: '/other' })).status, 404));
    assert.equal(await whoAnswers(m.vip(1), 80, { path: '/only' }), 'reviews-v1');
    // Deleting the route restores default routing; deleting a Service closes its listener.
    m.api.delete('HTTPRoute', 'default', 'reviews');
    await eventually(async () => assert.equal(await whoAnswers(m.vip(1), 80, { path: '/other' }), 'reviews-v1'));
    m.api.delete('Service', 'default', 'ratings');
    await eventually(() => assert.rejects(request(m.vip(3), 80), /ECONNREFUSED/));
  } finally {
    await m.close();
  }
});

test('a dropped watch reconnects from its resourceVersion without re-listing', async () => {
  const m = await mesh();
  try {
    const listed = lists(m.api, 'httproutes');
    const before = watches(m.api, 'httproutes').length;
    m.api.disconnectWatches();
    m.api.create(httpRoute('reviews', 'reviews', 'reviews-v2'));
    await eventually(async () => assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v2'));
    const rewatch = watches(m.api, 'httproutes').slice(before);
    assert.ok(rewatch.length >= 1);
    assert.notEqual(rewatch[0]?.query.get('resourceVersion') ?? '', '', 'the watch resumes from where it was');
    assert.equal(lists(m.api, 'httproutes'), listed, 'no re-list was needed');
  } finally {
    await m.close();
  }
});

for (const expiry of ['event', 'http'] as const) {
  test(`410 Gone (${expiry === 'event' ? 'ERROR event in the stream' : 'HTTP status'}): re-lists and catches up, deletions included`, async () => {
    const m = await mesh({ expiry }, (api) => api.create(httpRoute('reviews', 'reviews', 'reviews-v2')));
    try {
      assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v2');
      const listed = lists(m.api, 'httproutes');
      // Watches cannot reconnect while the route is deleted and a Service added; then history is compacted.
      m.api.fail((_method, _path, watch) => watch, 503);
      m.api.disconnectWatches();
      m.api.delete('HTTPRoute', 'default', 'reviews');
      m.api.create(service('details', m.vip(4)));
      m.api.create(endpointSlice('details', [`127.0.0.1:${v1.port}`]));
      m.api.store.compact();
      m.api.recover();
      await eventually(async () => assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v1'));
      await eventually(async () => assert.equal(await whoAnswers(m.vip(4), 80), 'reviews-v1'));
      assert.ok(lists(m.api, 'httproutes') > listed, 'the expired resourceVersion made the client re-list');
      const gone = m.api.requests.filter((r) => r.watch && r.status === (expiry === 'http' ? 410 : 200));
      assert.ok(gone.length > 0);
    } finally {
      await m.close();
    }
  });
}

test('an ERROR 410 event on an open watch makes the client re-list', async () => {
  const m = await mesh();
  try {
    const listed = lists(m.api, 'httproutes');
    m.api.expireWatches();
    m.api.create(httpRoute('reviews', 'reviews', 'reviews-v2'));
    await eventually(async () => assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v2'));
    await eventually(() => assert.ok(lists(m.api, 'httproutes') > listed));
  } finally {
    await m.close();
  }
});

test('watches ask for bookmarks, and a bookmark moves the resume point although the kind did not change', async () => {
  const m = await mesh({ bookmarkIntervalMs: 40 });
  try {
    const first = watches(m.api, 'httproutes')[0];
    assert.equal(first?.query.get('allowWatchBookmarks'), 'true');
    assert.ok(Number(first?.query.get('timeoutSeconds')) > 0, 'a server-side timeout is set');
    const startRv = Number(first?.query.get('resourceVersion'));
    // Other kinds change (the global resourceVersion moves); HTTPRoutes only hear bookmarks.
    m.api.create(service('details', m.vip(4)));
    m.api.create(service('ratings', m.vip(5)));
    const sent = m.api.bookmarks.get('httproutes') ?? 0;
    await eventually(() => assert.ok((m.api.bookmarks.get('httproutes') ?? 0) > sent, 'a bookmark went out after the changes'));
    // Reconnect until the client has read a bookmark (delivery is asynchronous): it resumes past startRv.
    await eventually(async () => {
      const before = watches(m.api, 'httproutes').length;
      m.api.disconnectWatches();
      await eventually(() => assert.ok(watches(m.api, 'httproutes').length > before));
      const resumed = Number(watches(m.api, 'httproutes').at(-1)?.query.get('resourceVersion'));
      assert.ok(resumed > startRv, `resumed at ${resumed}, started at ${startRv}`);
    });
    assert.equal(lists(m.api, 'httproutes'), 1, 'bookmarks made re-listing unnecessary');
  } finally {
    await m.close();
  }
});

test('a watch that goes silent (half-open connection) is abandoned and re-established', async () => {
  const api = await FakeApiServer.start();
  const vip = vipRange();
  for (const o of [namespace('default'), gateway(), service('reviews', vip(1)), endpointSlice('reviews', [`127.0.0.1:${v1.port}`]), service('reviews-v2', vip(2)), endpointSlice('reviews-v2', [`127.0.0.1:${v2.port}`])]) api.create(o);
  const wp = await startKubeWaypoint(api, { timing: { minWatchSeconds: 1, watchIdleGraceMs: 300 } });
  try {
    api.freezeWatches();
    api.create(httpRoute('reviews', 'reviews', 'reviews-v2'));
    await eventually(async () => assert.equal(await whoAnswers(vip(1), 80), 'reviews-v2'));
  } finally {
    await wp.stop();
    await api.close();
  }
});

test('an API server that errors keeps the last good snapshot serving, and changes apply once it recovers', async () => {
  const m = await mesh({}, (api) => api.create(httpRoute('reviews', 'reviews', 'reviews-v2')));
  try {
    const version = m.wp.waypoint.store.current?.version;
    m.api.fail(() => true, 500);
    m.api.disconnectWatches();
    await eventually(() => assert.ok(m.api.requests.filter((r) => r.status === 500).length >= 5, 'informers keep retrying'));
    for (let i = 0; i < 5; i++) assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v2');
    assert.equal(m.wp.waypoint.ready, true);
    assert.equal(m.wp.waypoint.store.current?.version, version, 'nothing was reloaded from a broken view');
    m.api.recover();
    m.api.delete('HTTPRoute', 'default', 'reviews');
    await eventually(async () => assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v1'));
  } finally {
    await m.close();
  }
});

test('kinds the API server does not serve (CRDs not installed) count as empty instead of blocking startup', async () => {
  const onlyCore = ALL_RESOURCES.filter((r) => !r.group.endsWith('istio.io') && r.kind !== 'GRPCRoute' && r.kind !== 'TLSRoute' && r.kind !== 'TCPRoute');
  const m = await mesh({ resources: onlyCore }, (api) => api.create(httpRoute('reviews', 'reviews', 'reviews-v2')));
  try {
    assert.equal(await whoAnswers(m.vip(1), 80), 'reviews-v2');
    const notServed = m.wp.waypoint.store.current?.diagnostics.filter((d) => d.code === 'kind-not-served').map((d) => d.message.split(' ')[0]);
    assert.ok(notServed?.includes('AuthorizationPolicy') && notServed.includes('TCPRoute'), String(notServed));
    // Older API versions are tried before giving up (GRPCRoute v1, then v1alpha2).
    assert.ok(m.api.requests.some((r) => r.path === '/apis/gateway.networking.k8s.io/v1alpha2/grpcroutes' && r.status === 404));
  } finally {
    await m.close();
  }
});

test('paginated lists (limit/continue) are joined before anything is applied', async () => {
  const m = await mesh({ maxPageSize: 2 }, (api, vip) => {
    for (let i = 10; i < 17; i++) {
      api.create(service(`svc-${i}`, vip(i)));
      api.create(endpointSlice(`svc-${i}`, [`127.0.0.1:${v1.port}`]));
    }
  });
  try {
    for (let i = 10; i < 17; i++) assert.equal(await whoAnswers(m.vip(i), 80), 'reviews-v1');
    assert.ok(m.api.requests.some((r) => r.path.endsWith('/services') && r.query.get('continue') !== null));
  } finally {
    await m.close();
  }
});
