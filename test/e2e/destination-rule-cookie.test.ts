// End to end: consistentHash httpCookie with ttl. A request without the cookie is hashed on a generated one and
// the response sets it (Envoy's `name="value"; Max-Age=<ttl>; Path=<path>; HttpOnly`); every later request
// carrying it reaches the same endpoint. A request that has the cookie gets no Set-Cookie; ttl 0s is a session
// cookie (no Max-Age); without ttl nothing is generated.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
const backends: Backend[] = [];

const dr = (name: string, cookie: string): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: default}
spec:
  host: ${name}
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpCookie: ${cookie}}
`;

before(async () => {
  const first = await startBackend('ep-1');
  backends.push(first);
  for (const n of [2, 3]) backends.push(await startBackend(`ep-${n}`, undefined, `127.0.0.${n}`, first.port));
  const eps = backends.map((b) => `${b.address}:${b.port}`);
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'sticky', vip: vip(1), endpoints: eps }),
      dr('sticky', '{name: user, path: /, ttl: 3600s, attributes: [{name: SameSite, value: Strict}]}'),
      serviceYaml({ name: 'session', vip: vip(2), endpoints: eps }),
      dr('session', '{name: sid, ttl: 0s}'),
      serviceYaml({ name: 'no-ttl', vip: vip(3), endpoints: eps }),
      dr('no-ttl', '{name: sid}'),
    ].join(''),
  });
});

after(async () => {
  await mesh.close();
  for (const b of backends) await b.close();
});

test('ttl: the missing cookie is generated and set; requests carrying it stay on the endpoint that served the first', async () => {
  const chosen = new Set<string>();
  for (let client = 0; client < 12; client++) {
    const first = await request(vip(1), 80);
    const setCookie = first.headers['set-cookie'];
    assert.equal(setCookie?.length, 1);
    const m = /^user="([0-9a-f]{16})"; Max-Age=3600; Path=\/; SameSite=Strict; HttpOnly$/.exec(setCookie?.[0] ?? '');
    assert.ok(m !== null, `Set-Cookie ${setCookie?.[0]}`);
    const owner = String(first.headers['x-backend']);
    chosen.add(owner);
    for (let i = 0; i < 4; i++) {
      const next = await request(vip(1), 80, { headers: { cookie: `a=b; user="${m[1]}"` } });
      assert.equal(next.headers['x-backend'], owner, 'the cookie keeps the client on its endpoint');
      assert.equal(next.headers['set-cookie'], undefined, 'no new cookie when the request has one');
    }
  }
  assert.ok(chosen.size >= 2, `new clients spread over the endpoints: ${[...chosen].join(', ')}`);
});

test('ttl 0s: a session cookie (no Max-Age); no ttl: no cookie is generated', async () => {
  const session = await request(vip(2), 80);
  assert.match(session.headers['set-cookie']?.[0] ?? '', /^sid="[0-9a-f]{16}"; HttpOnly$/);
  const none = await request(vip(3), 80);
  assert.equal(none.status, 200);
  assert.equal(none.headers['set-cookie'], undefined);
});
