// HBONE inbound end to end: a real mTLS + HTTP/2 client (standing in for ztunnel) opens CONNECT tunnels to
// Service VIPs; HTTP/1.1, HTTP/2, TCP and TLS ride inside them through the normal pipeline, and the peer's
// SPIFFE identity, baggage and Forwarded address reach the request context.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { createPki, type Svid, type TestPki } from '../harness/hbone-certs.js';
import { hboneConnect, openTunnel, tunnelRequest } from '../harness/hbone-client.js';
import { type HboneMesh, startHboneMesh } from '../harness/hbone-mesh.js';

const vip = vipRange();
let pki: TestPki;
let mesh: HboneMesh;
let web: Backend;
let webV2: Backend;
let tcpEcho: net.Server;
let tlsEcho: tls.Server;
let h2Backend: http2.Http2Server;
let h2Port = 0;
let sleep: Svid;
let tcpPort = 0;
let tlsPort = 0;

before(async () => {
  pki = await createPki();
  sleep = await pki.issue('spiffe://cluster.local/ns/client/sa/sleep');
  web = await startBackend('web');
  webV2 = await startBackend('web-v2');
  tcpEcho = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', () => r()));
  tcpPort = (tcpEcho.address() as net.AddressInfo).port;
  const server = await pki.issue('spiffe://cluster.local/ns/default/sa/tls-backend');
  tlsEcho = tls.createServer({ cert: server.certPem, key: server.keyPem }, (s) => s.pipe(s));
  await new Promise<void>((r) => tlsEcho.listen(0, '127.0.0.1', () => r()));
  tlsPort = (tlsEcho.address() as net.AddressInfo).port;
  h2Backend = http2.createServer((req, res) => res.end(JSON.stringify({ backend: 'h2c', path: req.url, version: req.httpVersion })));
  await new Promise<void>((r) => h2Backend.listen(0, '127.0.0.1', () => r()));
  h2Port = (h2Backend.address() as net.AddressInfo).port;
  const consumerRoute = `---
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: team-a-to-web
  namespace: team-a
spec:
  parentRefs: [{ group: "", kind: Service, name: web, namespace: default }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /consumer } }]
      backendRefs: [{ name: web-v2, namespace: default, port: 80 }]
`;
  mesh = await startHboneMesh(pki, {
    'mesh.yaml': meshPreamble()
      + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] })
      + serviceYaml({ name: 'web-v2', vip: vip(2), endpoints: [`127.0.0.1:${webV2.port}`] })
      + serviceYaml({ name: 'echo', vip: vip(3), port: 7000, portName: 'tcp-echo', endpoints: [`127.0.0.1:${tcpPort}`] })
      + serviceYaml({ name: 'secure', vip: vip(4), port: 443, portName: 'tls', endpoints: [`127.0.0.1:${tlsPort}`] })
      + serviceYaml({ name: 'remote', vip: '10.96.7.7', endpoints: [`127.0.0.1:${web.port}`] })
      + serviceYaml({ name: 'grpcish', vip: vip(5), portName: 'http2', endpoints: [`127.0.0.1:${h2Port}`] })
      + consumerRoute,
  });
});

after(async () => {
  await mesh.close();
  await Promise.all([web.close(), webV2.close(), new Promise((r) => tcpEcho.close(r)), new Promise((r) => tlsEcho.close(r)), new Promise((r) => h2Backend.close(r))]);
  await pki.close();
});

test('HTTP/1.1 in a tunnel reaches the Service; identity, baggage and Forwarded reach the request context', async () => {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: sleep, ca: pki.ca });
  try {
    const res = await tunnelRequest(session, `${vip(1)}:80`, {
      path: '/hello',
      connectHeaders: {
        forwarded: 'for="10.244.1.7:40112";host=web.default.svc.cluster.local',
        baggage: 'k8s.cluster.name=Kubernetes,k8s.namespace.name=client,k8s.deployment.name=sleep,service.name=sleep,service.version=v1',
      },
    });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).backend, 'web');
    const rec = mesh.records.at(-1);
    assert.ok(rec !== undefined);
    assert.equal(rec.conn.listenerKey, `${vip(1)}:80`);
    assert.equal(rec.conn.peerPrincipal, 'spiffe://cluster.local/ns/client/sa/sleep');
    assert.equal(rec.conn.peerTrustDomain, 'cluster.local');
    assert.equal(rec.conn.sourceNamespace, 'client');
    assert.equal(rec.conn.peerServiceAccount, 'sleep');
    assert.deepEqual([rec.conn.remoteAddress, rec.conn.remotePort, rec.conn.tunnelPeerAddress], ['10.244.1.7', 40112, '127.0.0.1']);
    assert.equal(rec.conn.sourceWorkload?.workload, 'sleep');
    assert.equal(rec.conn.sourceWorkload?.cluster, 'Kubernetes');
    assert.match(rec.conn.baggage ?? '', /service.version=v1/);
  } finally {
    session.close();
  }
});

test('the client namespace from the certificate selects consumer routes (GEP-1294)', async () => {
  const teamA = await pki.issue('spiffe://cluster.local/ns/team-a/sa/app');
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: teamA, ca: pki.ca });
  const other = await pki.issue('spiffe://cluster.local/ns/other/sa/curl');
  const otherSession = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: other, ca: pki.ca });
  try {
    const mine = await tunnelRequest(session, `${vip(1)}:80`, { path: '/consumer' });
    const theirs = await tunnelRequest(otherSession, `${vip(1)}:80`, { path: '/consumer' });
    assert.equal(JSON.parse(mine.body).backend, 'web-v2');
    assert.equal(JSON.parse(theirs.body).backend, 'web');
    // team-a's own route table replaces the producer's for team-a: paths it does not match are 404 (NR).
    assert.equal((await tunnelRequest(session, `${vip(1)}:80`, { path: '/other' })).status, 404);
  } finally {
    session.close();
    otherSession.close();
  }
});

test('many tunnels share one connection, and one tunnel carries several keep-alive requests', async () => {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: sleep, ca: pki.ca });
  try {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => tunnelRequest(session, `${vip(1)}:80`, { path: `/p${i}` })));
    assert.deepEqual(results.map((r) => r.status), Array(40).fill(200));
    assert.deepEqual(results.map((r) => JSON.parse(r.body).path).sort(), Array.from({ length: 40 }, (_, i) => `/p${i}`).sort());
    const stream = await openTunnel(session, `${vip(1)}:80`);
    const { requestThrough } = await import('../harness/hbone-client.js');
    for (const p of ['/a', '/b', '/c']) {
      const r = await requestThrough(stream, { path: p, headers: { connection: 'keep-alive' } });
      assert.equal(JSON.parse(r.body).path, p);
    }
    stream.close();
  } finally {
    session.close();
  }
  assert.ok(mesh.waypoint.hbone?.server !== undefined && mesh.waypoint.hbone.server.stats.sessionsOpened >= 1);
});

test('a Service with a non-loopback VIP is reachable only through HBONE', async () => {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: sleep, ca: pki.ca });
  try {
    const res = await tunnelRequest(session, '10.96.7.7:80', { path: '/remote' });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).path, '/remote');
  } finally {
    session.close();
  }
});

test('opaque TCP inside a tunnel is forwarded both ways with half-close', async () => {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: sleep, ca: pki.ca });
  try {
    const stream = await openTunnel(session, `${vip(3)}:7000`);
    const payload = Buffer.alloc(256 * 1024, 7);
    const received: Buffer[] = [];
    stream.on('data', (c: Buffer) => received.push(c));
    const ended = new Promise<void>((r) => stream.once('end', () => r()));
    stream.end(payload);
    await ended;
    assert.equal(Buffer.concat(received).length, payload.length);
    assert.ok(Buffer.concat(received).equals(payload));
  } finally {
    session.close();
  }
});

test('TLS passthrough inside a tunnel: the client handshakes with the backend end to end', async () => {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: sleep, ca: pki.ca });
  try {
    const stream = await openTunnel(session, `${vip(4)}:443`);
    const socket = tls.connect({ socket: stream as unknown as net.Socket, ca: pki.ca.certPem, checkServerIdentity: () => undefined });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    assert.match(socket.getPeerX509Certificate()?.subjectAltName ?? '', /sa\/tls-backend/);
    const echoed = new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString())));
    socket.write('ping over tls');
    assert.equal(await echoed, 'ping over tls');
    socket.destroy();
  } finally {
    session.close();
  }
});

test('HTTP/2 (h2c) inside a tunnel reaches an http2 Service', async () => {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: sleep, ca: pki.ca });
  try {
    const stream = await openTunnel(session, `${vip(5)}:80`);
    const inner = http2.connect(`http://${vip(5)}`, { createConnection: () => stream });
    inner.on('error', () => undefined);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = inner.request({ ':path': '/h2c', ':method': 'GET' });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { backend: 'h2c', path: '/h2c', version: '2.0' });
    assert.equal(mesh.records.at(-1)?.conn.peerPrincipal, 'spiffe://cluster.local/ns/client/sa/sleep');
    inner.close();
  } finally {
    session.close();
  }
});

const refusals: ReadonlyArray<{ name: string; authority: string; method?: string; status: number }> = [
  { name: 'unknown destination', authority: '127.0.0.1:1', status: 404 },
  { name: 'a port of a Service that it does not have', authority: `__VIP1__:81`, status: 404 },
  { name: 'the admin server is not a destination', authority: '127.0.0.1:15000', status: 404 },
  { name: 'host name instead of an address', authority: 'web.default.svc.cluster.local:80', status: 400 },
  { name: 'no port', authority: '__VIP1__', status: 400 },
  { name: 'port 0', authority: '__VIP1__:0', status: 400 },
  { name: 'garbage', authority: '%%%:80', status: 400 },
  { name: 'GET instead of CONNECT', authority: '__VIP1__:80', method: 'GET', status: 405 },
];

for (const c of refusals) {
  test(`CONNECT refused with a status, not a hang: ${c.name} → ${c.status}`, async () => {
    const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: sleep, ca: pki.ca });
    try {
      const authority = c.authority.replace('__VIP1__', vip(1));
      const headers = c.method === undefined ? { ':method': 'CONNECT', ':authority': authority } : { ':method': c.method, ':authority': authority, ':path': '/', ':scheme': 'https' };
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request(headers, { endStream: c.method !== undefined });
        stream.once('response', (h) => resolve(Number(h[':status'])));
        stream.once('error', reject);
      });
      assert.equal(status, c.status);
      // The connection stays usable for other tunnels.
      assert.equal((await tunnelRequest(session, `${vip(1)}:80`)).status, 200);
    } finally {
      session.close();
    }
  });
}
