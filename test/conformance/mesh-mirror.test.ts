// Conformance, part 3: RequestMirror (HTTPRouteRequestMirror, HTTPRouteRequestMultipleMirrors,
// HTTPRouteRequestPercentageMirror), re-expressed from the Gateway API suite; plus what Istio adds (the
// mirror's Host gets `-shadow`) and the promise that a mirror never slows or fails the primary request.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { waitFor } from '../harness/mesh.js';
import type { EchoRequest } from './echo-backend.js';
import { ConformanceMesh, meshRoute, NS } from './fixture.js';

const mirrorTo = (name: string, extra = ''): string =>
  `    - type: RequestMirror\n      requestMirror:\n        backendRef: { name: ${name}, namespace: ${NS}, port: ${name.startsWith('infra') ? 8080 : 80} }${extra}`;
const toV1 = '    backendRefs:\n    - name: infra-backend-v1\n      port: 8080';

const ROUTES = meshRoute('request-mirror', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /mirror } }]
    filters:
${mirrorTo('infra-backend-v2')}
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /multi-mirror } }]
    filters:
${mirrorTo('infra-backend-v2')}
${mirrorTo('infra-backend-v3')}
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /mirror-and-modify-headers } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{ name: X-Header-Set, value: set-overwrites-values }]
        add: [{ name: X-Header-Add, value: header-val-1 }]
        remove: [X-Header-Remove]
${mirrorTo('infra-backend-v2')}
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /percent-mirror } }]
    filters:
${mirrorTo('infra-backend-v2', '\n        percent: 20')}
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /percent-mirror-fraction } }]
    filters:
${mirrorTo('infra-backend-v2', '\n        fraction: { numerator: 25, denominator: 50 }')}
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /mirror-zero } }]
    filters:
${mirrorTo('infra-backend-v2', '\n        percent: 0')}
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /mirror-backend-level } }]
    backendRefs:
    - name: infra-backend-v1
      port: 8080
      filters:
${mirrorTo('infra-backend-v3').replace(/^ {4}/gm, '      ')}
  - matches: [{ path: { type: PathPrefix, value: /mirror-to-hang } }]
    filters:
${mirrorTo('hang')}
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /mirror-to-refused } }]
    filters:
${mirrorTo('refused')}
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /mirror-to-missing } }]
    filters:
${mirrorTo('no-such-service')}
${toV1}`);

let cm: ConformanceMesh;
let hang: net.Server;
const hangSockets = new Set<net.Socket>();

before(async () => {
  cm = await ConformanceMesh.start(ROUTES, async (port) => {
    // `hang` accepts connections and never reads or answers; `refused` has nobody listening.
    hang = net.createServer((s) => {
      hangSockets.add(s);
      s.pause();
    });
    await new Promise<void>((resolve) => hang.listen(port, '127.0.0.40', resolve));
    return [{ name: 'hang', addresses: ['127.0.0.40'] }, { name: 'refused', addresses: ['127.0.0.41'] }];
  });
});

after(async () => {
  await cm.close();
  for (const s of hangSockets) s.destroy();
  await new Promise<void>((resolve) => hang.close(() => resolve()));
});

function mirrored(pod: string, marker: string): EchoRequest[] {
  return cm.pod(pod).log.filter((r) => r.path.includes(marker));
}

test('HTTPRouteRequestMirror: the request goes to the backend and a copy to the mirror, Host suffixed -shadow', async () => {
  const marker = randomUUID();
  const reply = await cm.call({ path: `/mirror/${marker}`, headers: { 'x-custom': 'kept' } });
  assert.equal(reply.status, 200);
  assert.equal(reply.echo?.backend, 'infra-backend-v1');
  await waitFor(() => mirrored('infra-backend-v2', marker).length === 1);
  const copy = mirrored('infra-backend-v2', marker)[0];
  assert.equal(copy?.host, 'echo-shadow');
  assert.equal(copy?.method, 'GET');
  assert.equal(copy?.path, `/mirror/${marker}`);
  assert.equal(copy?.headers['x-custom'], 'kept');
  assert.equal(mirrored('infra-backend-v3', marker).length, 0);
});

test('HTTPRouteRequestMirror: the shadow suffix goes before the port of the Host', async () => {
  const marker = randomUUID();
  await cm.call({ path: `/mirror/${marker}`, host: 'echo:80' });
  await waitFor(() => mirrored('infra-backend-v2', marker).length === 1);
  assert.equal(mirrored('infra-backend-v2', marker)[0]?.host, 'echo-shadow:80');
});

test('HTTPRouteRequestMirror: a request body is copied whole', async () => {
  const marker = randomUUID();
  const body = 'b'.repeat(200_000);
  const reply = await cm.call({ path: `/mirror/${marker}`, method: 'POST', body });
  assert.equal(reply.echo?.bodyBytes, body.length);
  await waitFor(() => mirrored('infra-backend-v2', marker).length === 1);
  assert.equal(mirrored('infra-backend-v2', marker)[0]?.bodyBytes, body.length);
});

test('HTTPRouteRequestMultipleMirrors: every mirror gets a copy', async () => {
  const marker = randomUUID();
  const reply = await cm.call({ path: `/multi-mirror/${marker}` });
  assert.equal(reply.echo?.backend, 'infra-backend-v1');
  await waitFor(() => mirrored('infra-backend-v2', marker).length === 1 && mirrored('infra-backend-v3', marker).length === 1);
});

test('HTTPRouteRequestMirror: the mirror gets the request as filters before it left it', async () => {
  const marker = randomUUID();
  const reply = await cm.call({ path: `/mirror-and-modify-headers/${marker}`, headers: { 'X-Header-Remove': 'remove-val', 'X-Header-Add': 'append-val-1' } });
  assert.equal(reply.echo?.headers['x-header-set'], 'set-overwrites-values');
  await waitFor(() => mirrored('infra-backend-v2', marker).length === 1);
  const copy = mirrored('infra-backend-v2', marker)[0];
  assert.equal(copy?.headers['x-header-set'], 'set-overwrites-values');
  assert.equal(copy?.headers['x-header-add'], 'append-val-1,header-val-1');
  assert.equal(copy?.headers['x-header-remove'], undefined);
});

test('HTTPRouteRequestMirror: a backendRef-level mirror copies the requests sent to that backend', async () => {
  const marker = randomUUID();
  const reply = await cm.call({ path: `/mirror-backend-level/${marker}` });
  assert.equal(reply.echo?.backend, 'infra-backend-v1');
  await waitFor(() => mirrored('infra-backend-v3', marker).length === 1);
});

const percentCases = [
  { name: 'percent 20', path: '/percent-mirror', share: 0.2 },
  { name: 'fraction 25/50', path: '/percent-mirror-fraction', share: 0.5 },
  { name: 'percent 0 mirrors nothing', path: '/mirror-zero', share: 0 },
];

for (const c of percentCases) {
  test(`HTTPRouteRequestPercentageMirror: ${c.name}`, async () => {
    const marker = randomUUID();
    const n = 300;
    for (let i = 0; i < n; i++) assert.equal((await cm.call({ path: `${c.path}/${marker}` })).status, 200);
    // Mirrors are sent before the primary's response, so by now every one has at least reached the pod
    // or is in flight: wait for the count to settle.
    let last = -1;
    await waitFor(() => {
      const now = mirrored('infra-backend-v2', marker).length;
      const settled = now === last;
      last = now;
      return settled;
    }, 5000);
    const expected = n * c.share;
    const sd = Math.sqrt(n * c.share * (1 - c.share));
    assert.ok(Math.abs(last - expected) <= 4.5 * sd, `${last} of ${n} mirrored, expected ~${expected}`);
  });
}

test('HTTPRouteRequestMirror: a mirror that never answers does not delay or fail the primary', async () => {
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    const reply = await cm.call({ path: `/mirror-to-hang/${i}` });
    assert.equal(reply.status, 200);
    assert.equal(reply.echo?.backend, 'infra-backend-v1');
    assert.ok(Date.now() - started < 2000, 'primary answered without waiting for the mirror');
  }
});

test('HTTPRouteRequestMirror: a mirror that never reads does not hold back a large upload', async () => {
  const body = Buffer.alloc(4 * 1024 * 1024, 'u');
  const reply = await cm.call({ path: '/mirror-to-hang/upload', method: 'POST', body });
  assert.equal(reply.status, 200);
  assert.equal(reply.echo?.bodyBytes, body.length);
});

test('HTTPRouteRequestMirror: a mirror that refuses connections does not fail the primary', async () => {
  const reply = await cm.call({ path: '/mirror-to-refused/x' });
  assert.equal(reply.status, 200);
  assert.equal(reply.echo?.backend, 'infra-backend-v1');
  assert.equal(cm.mesh.records.at(-1)?.flag, undefined);
});

test('HTTPRouteRequestMirror: an unresolvable mirror backend is dropped, the route keeps working', async () => {
  const reply = await cm.call({ path: '/mirror-to-missing/x' });
  assert.equal(reply.status, 200);
  const dump = await (await fetch(`http://${cm.mesh.admin}/config_dump`)).json() as { status: { routes: Array<{ name: string; parents: Array<{ conditions: Array<{ type: string; status: string; reason: string }> }> }> } };
  const route = dump.status.routes.find((r) => r.name === 'request-mirror');
  const resolved = route?.parents[0]?.conditions.find((c) => c.type === 'ResolvedRefs');
  assert.deepEqual([resolved?.status, resolved?.reason], ['False', 'BackendNotFound']);
});
