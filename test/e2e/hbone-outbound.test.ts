// HBONE outbound end to end: endpoints of ambient workloads (Namespace or Pod `istio.io/dataplane-mode:
// ambient`) are reached through a tunnel to podIP:<hbone port> presenting the waypoint's identity, checked
// against the Pod's service account; connections are pooled; other endpoints stay plain.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { type Backend, echo, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, vipRange } from '../harness/config.js';
import { createPki, type TestPki } from '../harness/hbone-certs.js';
import { hboneConnect, tunnelRequest } from '../harness/hbone-client.js';
import { type HboneDestination, startHboneDestination } from '../harness/hbone-destination.js';
import { type HboneMesh, startHboneMesh } from '../harness/hbone-mesh.js';

const vip = vipRange();
const WAYPOINT_ID = 'spiffe://cluster.local/ns/default/sa/waypoint';
let pki: TestPki;
let mesh: HboneMesh;
let pod: Backend; // the ambient pod's app, on its pod IP
let podTcp: net.Server;
let podTcpPort = 0;
let plain: Backend;
let impostorApp: Backend;
let dest: HboneDestination; // ztunnel in front of the pod
let impostor: HboneDestination; // a destination with the wrong identity
let denying: HboneDestination; // a destination whose policy denies the waypoint
let hbonePort = 0;
let denyApp: Backend;

function slice(name: string, ns: string, service: string, portName: string, port: number, ip: string, podName: string): string {
  return `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}, namespace: ${ns}, labels: { kubernetes.io/service-name: ${service} } }
addressType: IPv4
ports: [{ name: ${portName}, port: ${port} }]
endpoints: [{ addresses: ["${ip}"], targetRef: { kind: Pod, name: ${podName}, namespace: ${ns} } }]
`;
}

function service(name: string, ns: string, ip: string, port: number, portName: string, targetPort: number): string {
  return `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${ns}, labels: { istio.io/use-waypoint: waypoint, istio.io/use-waypoint-namespace: default } }
spec: { clusterIP: ${ip}, ports: [{ name: ${portName}, port: ${port}, targetPort: ${targetPort} }] }
`;
}

function podYaml(name: string, ns: string, sa: string, labels = ''): string {
  return `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns}${labels === '' ? '' : `, labels: { ${labels} }`} }
spec: { serviceAccountName: ${sa}, containers: [{ name: app, image: example }] }
`;
}

async function freePortOn(hosts: ReadonlyArray<string>): Promise<number> {
  for (;;) {
    const probe = net.createServer();
    const port = await new Promise<number>((r) => probe.listen(0, hosts[0], () => r((probe.address() as net.AddressInfo).port)));
    await new Promise((r) => probe.close(r));
    const ok = await Promise.all(hosts.slice(1).map((h) => new Promise<boolean>((r) => {
      const s = net.createServer();
      s.once('error', () => r(false));
      s.listen(port, h, () => s.close(() => r(true)));
    })));
    if (ok.every(Boolean)) return port;
  }
}

before(async () => {
  pki = await createPki();
  pod = await startBackend('pod', (req, res, name) => setTimeout(() => echo(req, res, name), Number(req.headers['x-delay'] ?? 0)), vip(10));
  impostorApp = await startBackend('impostor', undefined, vip(11));
  denyApp = await startBackend('denied', undefined, vip(12));
  plain = await startBackend('plain');
  podTcp = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => podTcp.listen(0, vip(10), () => r()));
  podTcpPort = (podTcp.address() as net.AddressInfo).port;
  hbonePort = await freePortOn([vip(10), vip(11), vip(12)]);
  const podId = await pki.issue('spiffe://cluster.local/ns/apps/sa/web');
  dest = await startHboneDestination(vip(10), hbonePort, podId, pki.ca.certPem, (peer) => peer === WAYPOINT_ID);
  impostor = await startHboneDestination(vip(11), hbonePort, await pki.issue('spiffe://cluster.local/ns/apps/sa/other'), pki.ca.certPem);
  denying = await startHboneDestination(vip(12), hbonePort, await pki.issue('spiffe://cluster.local/ns/locked/sa/db'), pki.ca.certPem, () => false);
  const ambientNs = `---
apiVersion: v1
kind: Namespace
metadata: { name: apps, labels: { istio.io/dataplane-mode: ambient } }
---
apiVersion: v1
kind: Namespace
metadata: { name: locked, labels: { istio.io/dataplane-mode: ambient } }
`;
  mesh = await startHboneMesh(pki, {
    'mesh.yaml': meshPreamble() + ambientNs
      + service('web', 'apps', vip(1), 80, 'http', pod.port) + podYaml('web-0', 'apps', 'web') + slice('web-1', 'apps', 'web', 'http', pod.port, vip(10), 'web-0')
      + service('echo', 'apps', vip(2), 7000, 'tcp', podTcpPort) + slice('echo-1', 'apps', 'echo', 'tcp', podTcpPort, vip(10), 'web-0')
      + service('fake', 'apps', vip(3), 80, 'http', impostorApp.port) + podYaml('fake-0', 'apps', 'web') + slice('fake-1', 'apps', 'fake', 'http', impostorApp.port, vip(11), 'fake-0')
      + service('db', 'locked', vip(4), 80, 'http', denyApp.port) + slice('db-1', 'locked', 'db', 'http', denyApp.port, vip(12), 'db-0')
      + service('legacy', 'default', vip(5), 80, 'http', plain.port) + slice('legacy-1', 'default', 'legacy', 'http', plain.port, '127.0.0.1', 'legacy-0')
      + service('optout', 'apps', vip(6), 80, 'http', plain.port) + podYaml('optout-0', 'apps', 'web', 'istio.io/dataplane-mode: none') + slice('optout-1', 'apps', 'optout', 'http', plain.port, '127.0.0.1', 'optout-0'),
  }, { upstreamPort: hbonePort });
});

after(async () => {
  await mesh.close();
  await Promise.all([dest.close(), impostor.close(), denying.close()]);
  await Promise.all([pod.close(), plain.close(), impostorApp.close(), denyApp.close(), new Promise((r) => podTcp.close(r))]);
  await pki.close();
});

test('an ambient endpoint is reached through HBONE with the waypoint identity, CONNECT to podIP:targetPort', async () => {
  const res = await request(vip(1), 80, { path: '/via-hbone' });
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).backend, 'pod');
  assert.equal(dest.peers.at(-1), WAYPOINT_ID);
  assert.equal(dest.authorities.at(-1), `${vip(10)}:${pod.port}`);
});

test('tunnel connections are pooled per destination: many requests, one TLS connection', async () => {
  const before = dest.connections();
  const streamsBefore = dest.peers.length;
  // Slow responses keep every upstream connection busy, so each request needs a tunnel stream of its own.
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => request(vip(1), 80, { path: `/r${i}`, headers: { 'x-delay': '100' } })));
  assert.deepEqual(results.map((r) => r.status), Array(30).fill(200));
  assert.ok(dest.connections() - before <= 1, `opened ${dest.connections() - before} new tunnel connections`);
  assert.ok(dest.peers.length - streamsBefore >= 2, `${dest.peers.length - streamsBefore} CONNECT streams`);
  assert.ok(dest.peakStreams() >= 2, `at most ${dest.peakStreams()} streams at once on one connection`);
});

test('opaque TCP to an ambient endpoint goes through a tunnel too', async () => {
  const socket = net.connect(7000, vip(2));
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.end('tcp through hbone');
  await new Promise<void>((r) => socket.once('close', () => r()));
  assert.equal(Buffer.concat(chunks).toString(), 'tcp through hbone');
  assert.equal(dest.authorities.at(-1), `${vip(10)}:${podTcpPort}`);
});

test('a destination presenting another identity than its Pod service account is refused (503, nothing sent)', async () => {
  const res = await request(vip(3), 80, { path: '/x' });
  assert.equal(res.status, 503);
  assert.match(res.body, /^upstream connect error or disconnect\/reset before headers.*expected spiffe:\/\/cluster.local\/ns\/apps\/sa\/web/);
  assert.equal(impostor.peers.length, 0);
  assert.equal(impostorApp.hits(), 0);
});

test('a destination that denies the waypoint identity yields 503 (as ztunnel L4 policy denials do)', async () => {
  const res = await request(vip(4), 80, { path: '/x' });
  assert.equal(res.status, 503);
  assert.match(res.body, /reset reason: remote connection failure, transport failure reason: HBONE CONNECT to .* answered 401/);
  // Istio reports a destination ztunnel's refusal as UF (with URX once the default retries are spent).
  assert.match(mesh.records.at(-1)?.flag ?? '', /^UF/);
  assert.equal(denyApp.hits(), 0);
});

test('endpoints outside the ambient mesh, or opted out by their Pod, stay plain', async () => {
  const before = dest.peers.length;
  for (const v of [vip(5), vip(6)]) {
    const res = await request(v, 80, { path: '/plain' });
    assert.equal(JSON.parse(res.body).backend, 'plain');
  }
  assert.equal(dest.peers.length, before);
});

test('ambient end to end: HBONE in with the client identity, HBONE out with the waypoint identity', async () => {
  const client = await pki.issue('spiffe://cluster.local/ns/client/sa/sleep');
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: client, ca: pki.ca });
  try {
    const res = await tunnelRequest(session, `${vip(1)}:80`, { path: '/both-ways' });
    assert.equal(JSON.parse(res.body).path, '/both-ways');
    assert.equal(mesh.records.at(-1)?.conn.peerPrincipal, 'spiffe://cluster.local/ns/client/sa/sleep');
    assert.equal(dest.peers.at(-1), WAYPOINT_ID);
  } finally {
    session.close();
  }
});
