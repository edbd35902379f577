// Two waypoint replicas against one (fake) API server: one holds the coordination.k8s.io Lease and only
// it writes status; when it stops (releasing the Lease) or dies (the Lease expires) the other takes
// over. And the real CLI process in Kubernetes mode: readiness on --health-address, SIGTERM drains.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { FakeApiServer } from '../harness/fake-apiserver.js';
import type { Obj } from '../harness/fake-apiserver-store.js';
import { endpointSlice, eventually, gateway, gatewayClass, httpRoute, namespace, service, startKubeWaypoint } from '../harness/fake-apiserver-mesh.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const LEASE = 'waypoint-status.default.waypoint';

/** Services with cluster (non-loopback) VIPs: two replicas in one process bind no listeners. */
function seed(api: FakeApiServer): void {
  api.create(namespace('default'));
  api.create(namespace('waypoint-system', {}));
  api.create(gatewayClass());
  api.create(gateway());
  api.create(service('reviews', '10.96.0.21'));
  api.create(endpointSlice('reviews', ['10.244.0.5:8080']));
  api.create(httpRoute('reviews', 'reviews', 'reviews'));
}

function holder(api: FakeApiServer): string | undefined {
  try {
    return ((api.get('Lease', 'waypoint-system', LEASE)['spec'] as Obj)['holderIdentity'] as string | undefined) ?? '';
  } catch {
    return undefined;
  }
}

const observed = (api: FakeApiServer): unknown => {
  const parents = ((api.get('HTTPRoute', 'default', 'reviews')['status'] as Obj | undefined)?.['parents'] ?? []) as Obj[];
  return ((parents[0]?.['conditions'] ?? []) as Obj[]).find((c) => c['type'] === 'Accepted')?.['observedGeneration'];
};

test('one leader writes status; the other replica takes over when the leader stops', async () => {
  const api = await FakeApiServer.start();
  seed(api);
  const a = await startKubeWaypoint(api, { token: 'replica-a' });
  const b = await startKubeWaypoint(api, { token: 'replica-b' });
  try {
    await eventually(() => assert.equal(observed(api), 1));
    await eventually(() => assert.equal([a, b].filter((r) => r.elector?.isLeader === true).length, 1));
    const [leader, follower] = a.elector?.isLeader === true ? [a, b] : [b, a];
    const [leaderToken, followerToken] = leader === a ? ['replica-a', 'replica-b'] : ['replica-b', 'replica-a'];
    // Both replicas compiled and serve; only the leader's credentials ever wrote status.
    assert.equal(a.waypoint.ready && b.waypoint.ready, true);
    const writers = new Set(api.statusWrites().map((r) => r.token));
    assert.deepEqual([...writers], [leaderToken]);
    api.update(httpRoute('reviews', 'reviews', 'reviews', { path: '/v2' }));
    await eventually(() => assert.equal(observed(api), 2));
    assert.deepEqual([...new Set(api.statusWrites().map((r) => r.token))], [leaderToken]);
    assert.equal(follower.elector?.isLeader, false);

    // Graceful stop releases the Lease: the follower takes over without waiting for it to expire.
    await leader.stop();
    await eventually(() => assert.equal(follower.elector?.isLeader, true));
    api.update(httpRoute('reviews', 'reviews', 'reviews', { path: '/v3' }));
    await eventually(() => assert.equal(observed(api), 3));
    assert.ok(api.statusWrites().some((r) => r.token === followerToken));
    assert.ok(((api.get('Lease', 'waypoint-system', LEASE)['spec'] as Obj)['leaseTransitions'] as number) >= 1);
  } finally {
    await a.stop().catch(() => {});
    await b.stop().catch(() => {});
    await api.close();
  }
});

test('a leader that cannot renew steps down; a dead leader\'s Lease is taken over once it expires', async () => {
  const api = await FakeApiServer.start();
  seed(api);
  const a = await startKubeWaypoint(api, { token: 'replica-a' });
  await eventually(() => assert.equal(a.elector?.isLeader, true));
  // Replica a is cut off from the Lease: after the renew deadline it stops leading (and writing).
  api.fail((_m, path) => path.includes('/leases'), 503);
  const b = await startKubeWaypoint(api, { token: 'replica-b' });
  try {
    await eventually(() => assert.equal(a.elector?.isLeader, false));
    // Then a dies without releasing: the Lease still names it.
    await a.elector?.stop(false);
    const dead = holder(api);
    assert.match(dead ?? '', /_/);
    api.recover();
    // b takes over only after seeing the stale holder unchanged for leaseDuration.
    await eventually(() => assert.equal(b.elector?.isLeader, true));
    assert.notEqual(holder(api), dead);
    const writesBefore = api.statusWrites().length;
    api.update(httpRoute('reviews', 'reviews', 'reviews', { path: '/v2' }));
    await eventually(() => assert.equal(observed(api), 2));
    assert.deepEqual([...new Set(api.statusWrites().slice(writesBefore).map((r) => r.token))], ['replica-b']);
  } finally {
    await a.stop();
    await b.stop();
    await api.close();
  }
});

test('the CLI in Kubernetes mode: readiness on --health-address, SIGTERM drains, releases the Lease and exits 0', async () => {
  const api = await FakeApiServer.start();
  seed(api);
  const health = await unusedPort();
  const kubeconfig = await api.kubeconfig('cli');
  const child = spawn(process.execPath, [MAIN, 'run', '--kubernetes', '--kubeconfig', kubeconfig, '--leader-election-namespace', 'waypoint-system',
    '--admin-address', `127.0.0.1:${await unusedPort()}`, '--metrics-address', `127.0.0.1:${await unusedPort()}`, '--health-address', `127.0.0.1:${health}`, '--drain-timeout', '2s'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await eventually(async () => assert.equal((await request('127.0.0.1', health, { path: '/healthz/ready' })).status, 200), 20_000).catch((err: unknown) => {
      throw new Error(`not ready: ${String(err)}\n${stderr}`);
    });
    await eventually(() => assert.equal(observed(api), 1));
    await eventually(() => assert.match(holder(api) ?? '', /_/));
    child.kill('SIGTERM');
    assert.equal(await exit, 0, stderr);
    assert.equal(holder(api), '', 'the Lease was released on the way out');
    assert.match(stderr, /SIGTERM: draining/);
  } finally {
    child.kill('SIGKILL');
    await api.close();
  }
});

test('without a waypoint Gateway the process waits, not ready, and starts when one is created', async () => {
  const api = await FakeApiServer.start();
  api.create(namespace('default'));
  api.create(service('reviews', '10.96.0.21'));
  let started = false;
  const starting = startKubeWaypoint(api).then((wp) => {
    started = true;
    return wp;
  });
  try {
    await eventually(() => assert.ok(api.requests.filter((r) => r.watch).length >= 10));
    assert.equal(started, false);
    api.create(gateway());
    const wp = await starting;
    assert.equal(wp.waypoint.ready, true);
    await wp.stop();
  } finally {
    await api.close();
  }
});
