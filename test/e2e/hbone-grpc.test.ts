// HTTP/2 upstreams of ambient pods go through HBONE too: a real @grpc/grpc-js server behind a real HBONE
// destination (ztunnel's part), reached by the waypoint as its own identity with CONNECT podIP:targetPort;
// the nested h2c session runs inside the tunnel stream. Every call type, large messages both ways, many
// concurrent calls on one tunnel, and a client that arrives itself through HBONE.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { meshPreamble, vipRange } from '../harness/config.js';
import { echoClient, type EchoClient, type EchoReply, type GrpcBackend, startGrpcBackend, statusOf, unary } from '../harness/grpc-echo.js';
import { createPki, type TestPki } from '../harness/hbone-certs.js';
import { hboneConnect, openTunnel } from '../harness/hbone-client.js';
import { type HboneDestination, startHboneDestination } from '../harness/hbone-destination.js';
import { type HboneMesh, startHboneMesh } from '../harness/hbone-mesh.js';

const vip = vipRange();
const WAYPOINT_ID = 'spiffe://cluster.local/ns/default/sa/waypoint';
const PORT = 9000;
let pki: TestPki;
let mesh: HboneMesh;
let backend: GrpcBackend;
let dest: HboneDestination;
let denying: HboneDestination; // ztunnel in front of a pod whose policy denies the waypoint
let deniedApp: GrpcBackend;
let client: EchoClient;

function config(podIp: string, targetPort: number, deniedIp: string, deniedPort: number): string {
  return `${meshPreamble()}---
apiVersion: v1
kind: Service
metadata: { name: locked, namespace: apps, labels: { istio.io/use-waypoint: waypoint, istio.io/use-waypoint-namespace: default } }
spec: { clusterIP: ${vip(2)}, ports: [{ name: grpc, port: ${PORT}, targetPort: ${deniedPort} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: locked-1, namespace: apps, labels: { kubernetes.io/service-name: locked } }
addressType: IPv4
ports: [{ name: grpc, port: ${deniedPort} }]
endpoints: [{ addresses: ["${deniedIp}"] }]
---
apiVersion: v1
kind: Namespace
metadata: { name: apps, labels: { istio.io/dataplane-mode: ambient } }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: apps, labels: { istio.io/use-waypoint: waypoint, istio.io/use-waypoint-namespace: default } }
spec: { clusterIP: ${vip(1)}, ports: [{ name: grpc, port: ${PORT}, targetPort: ${targetPort} }] }
---
apiVersion: v1
kind: Pod
metadata: { name: echo-0, namespace: apps }
spec: { serviceAccountName: echo, containers: [{ name: app, image: example }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: echo-1, namespace: apps, labels: { kubernetes.io/service-name: echo } }
addressType: IPv4
ports: [{ name: grpc, port: ${targetPort} }]
endpoints: [{ addresses: ["${podIp}"], targetRef: { kind: Pod, name: echo-0, namespace: apps } }]
`;
}

before(async () => {
  pki = await createPki();
  backend = await startGrpcBackend('ambient-pod', vip(10));
  dest = await startHboneDestination(vip(10), 0, await pki.issue('spiffe://cluster.local/ns/apps/sa/echo'), pki.ca.certPem, (peer) => peer === WAYPOINT_ID);
  deniedApp = await startGrpcBackend('denied-pod', vip(11));
  // Both destinations listen on the one HBONE port the waypoint dials (ztunnel's 15008), each on its pod IP.
  denying = await startHboneDestination(vip(11), dest.port, await pki.issue('spiffe://cluster.local/ns/apps/sa/locked'), pki.ca.certPem, () => false);
  mesh = await startHboneMesh(pki, { 'mesh.yaml': config(vip(10), backend.port, vip(11), deniedApp.port) }, { upstreamPort: dest.port });
  client = echoClient(vip(1), PORT);
});

after(async () => {
  client.close();
  await mesh.close();
  await Promise.all([dest.close(), denying.close()]);
  await Promise.all([backend.close(), deniedApp.close()]);
  await pki.close();
});

function collect(stream: grpc.ClientReadableStream<EchoReply>): Promise<EchoReply[]> {
  return new Promise((resolve, reject) => {
    const replies: EchoReply[] = [];
    stream.on('data', (r: EchoReply) => replies.push(r));
    stream.on('error', reject);
    stream.on('end', () => resolve(replies));
  });
}

test('unary gRPC to an ambient pod goes through an HBONE tunnel as the waypoint', async () => {
  const before = dest.peers.length;
  const { reply, headers, trailers } = await unary(client, { message: 'through hbone' }, { metadata: { 'x-user': 'alice' } });
  assert.equal(reply.message, 'through hbone');
  assert.equal(reply.backend, 'ambient-pod');
  assert.equal(reply.metadata['x-user'], 'alice');
  assert.equal(headers['x-initial'], 'from-ambient-pod');
  assert.equal(trailers['x-trailer'], 'from-ambient-pod');
  assert.ok(dest.peers.length > before, 'a CONNECT reached the destination');
  assert.equal(dest.peers.at(-1), WAYPOINT_ID);
  assert.equal(dest.authorities.at(-1), `${vip(10)}:${backend.port}`);
});

test('server streaming, client streaming and bidi calls stream through the tunnel', async () => {
  const replies = await collect(client.ServerStream({ message: 's', count: 5 }, new grpc.Metadata(), {}));
  assert.deepEqual(replies.map((r) => r.index), [0, 1, 2, 3, 4]);
  const summary = await new Promise<EchoReply>((resolve, reject) => {
    const call = client.ClientStream(new grpc.Metadata(), {}, (err, r) => (err === null && r !== undefined ? resolve(r) : reject(err)));
    for (let i = 0; i < 20; i++) call.write({ payload: Buffer.alloc(1000, i) });
    call.end();
  });
  assert.equal(summary.message, 'received 20 messages, 20000 bytes');
  const bidi = client.Bidi(new grpc.Metadata(), {});
  const got = collect(bidi);
  for (let i = 0; i < 10; i++) bidi.write({ message: `m${i}` });
  bidi.end();
  assert.deepEqual((await got).map((r) => r.message), Array.from({ length: 10 }, (_, i) => `m${i}`));
});

test('large messages both ways keep flow control through the nested session (4 MiB each way)', async () => {
  const payload = Buffer.alloc(4 * 1024 * 1024, 7);
  const { reply } = await unary(client, { message: 'big', payload });
  assert.equal(reply.payload.length, payload.length);
  assert.ok(reply.payload.equals(payload));
});

test('100 concurrent calls share the tunnel: one TLS connection to the destination', async () => {
  const connections = dest.connections();
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => unary(client, { message: `c${i}`, delayMs: 20 })));
  assert.deepEqual(results.map((r) => r.reply.message), Array.from({ length: 100 }, (_, i) => `c${i}`));
  assert.ok(dest.connections() - connections <= 1, `${dest.connections() - connections} new tunnel connections`);
});

test('a destination that refuses the CONNECT fails the call with UNAVAILABLE at once, never a hang', async () => {
  const locked = echoClient(vip(2), PORT);
  try {
    const started = Date.now();
    const err = await unary(locked, { message: 'x' }, { deadlineMs: 10_000 }).then(() => undefined, (e: unknown) => e);
    assert.ok(err !== undefined, 'the call failed');
    assert.equal(statusOf(err).code, grpc.status.UNAVAILABLE);
    assert.match(statusOf(err).details, /upstream connect error or disconnect\/reset before headers/);
    assert.ok(Date.now() - started < 5_000, 'answered well before the deadline');
    assert.equal(deniedApp.calls.size, 0);
    assert.match(mesh.records.at(-1)?.flag ?? '', /^UF/);
  } finally {
    locked.close();
  }
});

test('HBONE in and out: an h2c gRPC call inside a client tunnel reaches the ambient pod through a second tunnel', async () => {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: await pki.issue('spiffe://cluster.local/ns/client/sa/sleep'), ca: pki.ca });
  const tunnel = await openTunnel(session, `${vip(1)}:${PORT}`);
  const inner = http2.connect(`http://${vip(1)}:${PORT}`, { createConnection: () => tunnel as unknown as Socket });
  inner.on('error', () => undefined);
  try {
    // Echo.Unary with EchoRequest { message: "in and out" }: field 1, length-delimited, in a gRPC length-prefixed message.
    const text = Buffer.from('in and out');
    const message = Buffer.concat([Buffer.from([0x0a, text.length]), text]);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    const call = inner.request({ ':method': 'POST', ':path': '/waypoint.test.Echo/Unary', 'content-type': 'application/grpc', te: 'trailers' });
    call.end(Buffer.concat([prefix, message]));
    const chunks: Buffer[] = [];
    call.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise((r) => call.once('close', r));
    const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      call.once('trailers', resolve);
      call.once('error', reject);
    });
    await closed;
    assert.equal(trailers['grpc-status'], '0');
    const body = Buffer.concat(chunks);
    assert.ok(body.includes(text), 'the reply echoes the message');
    assert.ok(body.includes(Buffer.from('ambient-pod')), 'answered by the ambient pod');
    assert.equal(mesh.records.at(-1)?.conn.peerPrincipal, 'spiffe://cluster.local/ns/client/sa/sleep');
    assert.equal(dest.peers.at(-1), WAYPOINT_ID);
  } finally {
    inner.destroy();
    session.close();
  }
});
