// End to end with real gRPC peers (@grpc/grpc-js) on both sides of the waypoint: the four call types
// streamed with metadata and trailers, deadlines, cancellation both ways, large messages, many
// concurrent calls on one connection, and a backend restarting mid-stream.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, test } from 'node:test';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { echoClient, type EchoClient, type EchoReply, type GrpcBackend, startGrpcBackend, statusOf, unary } from '../harness/grpc-echo.js';
import { startMesh, type TestMesh, waitFor } from '../harness/mesh.js';

const vip = vipRange();
const PORT = 9000;
let mesh: TestMesh;
let backend: GrpcBackend;
let restartable: GrpcBackend;
let client: EchoClient;

before(async () => {
  backend = await startGrpcBackend('g1');
  restartable = await startGrpcBackend('r1', '127.0.0.1');
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'echo', vip: vip(1), port: PORT, portName: 'grpc', endpoints: [`127.0.0.1:${backend.port}`] }),
      serviceYaml({ name: 'restart', vip: vip(2), port: PORT, portName: 'grpc-api', endpoints: [`127.0.0.1:${restartable.port}`] }),
    ].join(''),
  });
  client = echoClient(vip(1), PORT);
});

after(async () => {
  client.close();
  await mesh.close();
  await backend.close();
  await restartable.close();
});

function collect(stream: grpc.ClientReadableStream<EchoReply>): Promise<{ replies: EchoReply[]; trailers: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    const replies: EchoReply[] = [];
    let trailers = new grpc.Metadata();
    stream.on('data', (r: EchoReply) => replies.push(r));
    stream.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
    stream.on('error', reject);
    stream.on('end', () => setImmediate(() => resolve({ replies, trailers })));
  });
}

test('unary: reply, request metadata to the backend, initial metadata and trailers back', async () => {
  const { reply, headers, trailers } = await unary(client, { message: 'hello' }, { metadata: { 'x-user': 'alice' } });
  assert.equal(reply.message, 'hello');
  assert.equal(reply.backend, 'g1');
  assert.equal(reply.metadata['x-user'], 'alice');
  assert.ok(reply.metadata['x-request-id'] !== undefined, 'x-request-id is added on the way');
  assert.equal(headers['x-initial'], 'from-g1');
  assert.equal(headers['server'], 'istio-envoy');
  assert.equal(trailers['x-trailer'], 'from-g1');
});

test('a backend error status and message reach the client through the trailers', async () => {
  await assert.rejects(unary(client, { message: 'x', failCode: grpc.status.FAILED_PRECONDITION }), (err) => {
    assert.deepEqual(statusOf(err), { code: grpc.status.FAILED_PRECONDITION, details: 'failed by g1' });
    return true;
  });
});

test('client streaming: every message arrives, one reply', async () => {
  const reply = await new Promise<EchoReply>((resolve, reject) => {
    const call = client.ClientStream(new grpc.Metadata(), {}, (err, r) => (err !== null ? reject(err) : resolve(r as EchoReply)));
    for (let i = 0; i < 50; i++) call.write({ message: `m${i}`, payload: Buffer.alloc(1000, i) });
    call.end();
  });
  assert.equal(reply.message, 'received 50 messages, 50000 bytes');
});

test('server streaming: replies stream in order, trailers at the end', async () => {
  const { replies, trailers } = await collect(client.ServerStream({ message: 's', count: 20 }, new grpc.Metadata(), {}));
  assert.deepEqual(replies.map((r) => r.index), [...Array(20).keys()]);
  assert.equal(trailers.get('x-trailer')[0], 'from-g1');
});

test('server streaming is not buffered: the first reply arrives while the backend is still sending', async () => {
  const call = client.ServerStream({ message: 'slow', count: 5, delayMs: 300 }, new grpc.Metadata(), {});
  const started = Date.now();
  const first = await new Promise<number>((resolve) => call.once('data', () => resolve(Date.now() - started)));
  // The whole stream takes >= 1.5 s; the first message must not wait for it.
  assert.ok(first < 1200, `first message after ${first} ms`);
  call.cancel();
  await new Promise((r) => call.on('error', r));
});

test('bidirectional streaming: ping-pong, each reply after its request', async () => {
  const call = client.Bidi(new grpc.Metadata(), {});
  const got: string[] = [];
  for (let i = 0; i < 10; i++) {
    const next = new Promise<EchoReply>((resolve) => call.once('data', resolve));
    call.write({ message: `ping ${i}` });
    got.push((await next).message);
  }
  call.end();
  await new Promise((r) => call.on('status', r));
  assert.deepEqual(got, [...Array(10).keys()].map((i) => `ping ${i}`));
});

test('large messages (8 MiB) both ways', async () => {
  const payload = Buffer.alloc(8 * 1024 * 1024, 7);
  const { reply } = await unary(client, { message: 'big', payload });
  assert.equal(reply.payload.length, payload.length);
  assert.ok(reply.payload.equals(payload));
});

test('many concurrent calls on one client connection all complete', async () => {
  const many = await Promise.all([...Array(300).keys()].map((i) => unary(client, { message: `c${i}` })));
  assert.deepEqual(many.map((r) => r.reply.message), [...Array(300).keys()].map((i) => `c${i}`));
});

test('grpc-timeout is honoured: a call past its deadline fails with DEADLINE_EXCEEDED and the backend sees the cancel', async () => {
  const before = backend.cancelled;
  await assert.rejects(unary(client, { message: 'late', delayMs: 3000 }, { deadlineMs: 300 }), (err) => {
    assert.equal(statusOf(err).code, grpc.status.DEADLINE_EXCEEDED);
    return true;
  });
  await waitFor(() => backend.cancelled > before);
  await waitFor(() => mesh.records.some((r) => r.details === 'upstream_response_timeout' || r.flag === 'DC'));
});

test('grpc-timeout on its own (no client-side deadline) makes the waypoint answer UNAVAILABLE with Envoy\'s timeout reply', async () => {
  const md = new grpc.Metadata();
  // Sent as a raw header: grpc-js would otherwise enforce the deadline itself first.
  md.set('grpc-timeout', '200m');
  const err = await new Promise<unknown>((resolve) => client.Unary({ message: 'late', delayMs: 2000 }, md, {}, (e) => resolve(e)));
  assert.deepEqual(statusOf(err), { code: grpc.status.UNAVAILABLE, details: 'upstream request timeout' });
  await waitFor(() => mesh.records.some((r) => r.flag === 'UT' && r.details === 'upstream_response_timeout'));
});

test('client cancellation reaches the backend', async () => {
  const before = backend.cancelled;
  const call = client.ServerStream({ message: 'endless', count: 1000, delayMs: 50 }, new grpc.Metadata(), {});
  await new Promise((r) => call.once('data', r));
  call.cancel();
  await assert.rejects(new Promise((_, reject) => call.on('error', reject)), (err) => statusOf(err).code === grpc.status.CANCELLED);
  await waitFor(() => backend.cancelled > before);
});

test('a backend restart mid-stream fails the open stream; new calls succeed on the restarted backend', async () => {
  const c = echoClient(vip(2), PORT);
  try {
    const call = c.ServerStream({ message: 'r', count: 1000, delayMs: 20 }, new grpc.Metadata(), {});
    await new Promise((r) => call.once('data', r));
    const failed = new Promise<unknown>((resolve) => call.on('error', resolve));
    const port = restartable.port;
    await restartable.close();
    const err = await failed;
    assert.ok([grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.CANCELLED].includes(statusOf(err).code), `status ${statusOf(err).code}`);
    restartable = await startGrpcBackend('r2', '127.0.0.1', port);
    const { reply } = await unary(c, { message: 'after restart' });
    assert.equal(reply.backend, 'r2');
  } finally {
    c.close();
  }
});
