// End to end: DestinationRule connectionPool fields, observed at real backends that count their connections:
// maxConnections + http1MaxPendingRequests (queue, then 503 UO), maxRequestsPerConnection, http.idleTimeout,
// tcp.connectTimeout (a peer that never completes the handshake), maxRetries (no retry past the budget),
// h2UpgradePolicy UPGRADE and useClientProtocol (the backend sees HTTP/2), maxConcurrentStreams.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { unusedPort } from '../harness/backends.js';
import { request, type Response } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh, waitFor } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;

/** An HTTP/1.1 + h2c backend that counts connections, answers with the HTTP version, and holds `/hold`. */
interface Counted { readonly port: number; connections: number; readonly held: Array<() => void>; hits: number; close(): Promise<void> }

async function countedBackend(kind: 'h1' | 'h2c'): Promise<Counted> {
  const state = { connections: 0, held: [] as Array<() => void>, hits: 0 };
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    state.hits++;
    const answer = (): void => void res.end(`HTTP/${req.httpVersion}`);
    if (req.url === '/hold') state.held.push(answer);
    else answer();
  };
  const server = kind === 'h1' ? http.createServer(handler) : http2.createServer(handler);
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return Object.assign(state, {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const r of state.held.splice(0)) r();
      if (server instanceof http.Server) server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
}

let queued: Counted;
let perConn: Counted;
let idle: Counted;
let upgraded: Counted;
let streams: Counted;
let silent: net.Server;
const silentSockets: net.Socket[] = [];

const dr = (name: string, pool: string, extra = ''): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: default}
spec:
  host: ${name}
  trafficPolicy:${extra}
    connectionPool:
${pool.split('\n').map((l) => `      ${l}`).join('\n')}
`;

before(async () => {
  queued = await countedBackend('h1');
  perConn = await countedBackend('h1');
  idle = await countedBackend('h1');
  upgraded = await countedBackend('h2c');
  streams = await countedBackend('h2c');
  // Accepts TCP and never answers the TLS ClientHello: the connection is never established.
  silent = net.createServer((s) => void silentSockets.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const refused = await unusedPort();
  const ep = (p: number): string[] => [`127.0.0.1:${p}`];
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'queued', vip: vip(1), endpoints: ep(queued.port) }),
      dr('queued', 'tcp: {maxConnections: 1}\nhttp: {http1MaxPendingRequests: 1}'),
      serviceYaml({ name: 'per-conn', vip: vip(2), endpoints: ep(perConn.port) }),
      dr('per-conn', 'http: {maxRequestsPerConnection: 2}'),
      serviceYaml({ name: 'idle', vip: vip(3), endpoints: ep(idle.port) }),
      dr('idle', 'http: {idleTimeout: 100ms}'),
      serviceYaml({ name: 'idle-default', vip: vip(4), endpoints: ep(idle.port) }),
      serviceYaml({ name: 'slow-connect', vip: vip(5), endpoints: ep((silent.address() as net.AddressInfo).port) }),
      dr('slow-connect', 'tcp: {connectTimeout: 250ms}\nhttp: {maxRetries: 0}', '\n    tls: {mode: SIMPLE, insecureSkipVerify: true}'),
      serviceYaml({ name: 'refused-budget', vip: vip(6), endpoints: ep(refused) }),
      dr('refused-budget', 'http: {maxRetries: 0}'),
      serviceYaml({ name: 'refused-default', vip: vip(7), endpoints: ep(refused) }),
      serviceYaml({ name: 'upgraded', vip: vip(8), endpoints: ep(upgraded.port) }),
      dr('upgraded', 'http: {h2UpgradePolicy: UPGRADE}'),
      serviceYaml({ name: 'client-proto', vip: vip(9), endpoints: ep(perConn.port) }),
      dr('client-proto', 'http: {useClientProtocol: true, h2UpgradePolicy: UPGRADE}'),
      serviceYaml({ name: 'client-proto-h2', vip: vip(11), endpoints: ep(upgraded.port) }),
      dr('client-proto-h2', 'http: {useClientProtocol: true}'),
      serviceYaml({ name: 'one-per-conn', vip: vip(12), endpoints: ep(idle.port) }),
      dr('one-per-conn', 'http: {maxRequestsPerConnection: 1}'),
      serviceYaml({ name: 'streams', vip: vip(10), endpoints: ep(streams.port), portName: 'http2' }),
      dr('streams', 'http: {maxConcurrentStreams: 1}'),
    ].join(''),
  });
});

after(async () => {
  await mesh.close();
  for (const b of [queued, perConn, idle, upgraded, streams]) await b.close();
  for (const s of silentSockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

test('maxConnections 1 + http1MaxPendingRequests 1: one request runs, one waits, the next is 503 UO', async () => {
  const first = request(vip(1), 80, { path: '/hold' });
  await waitFor(() => queued.held.length === 1);
  const second = request(vip(1), 80, { path: '/hold' });
  // The second waits in the pool for the only connection (it never reaches the backend meanwhile).
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(queued.hits, 1);
  const over = await request(vip(1), 80, { path: '/over' });
  assert.equal(over.status, 503);
  assert.equal(over.body, 'upstream connect error or disconnect/reset before headers. reset reason: overflow');
  assert.equal(mesh.records.findLast((r) => r.cluster?.includes('|queued.'))?.flag, 'UO');
  queued.held.shift()?.();
  await waitFor(() => queued.held.length === 1);
  queued.held.shift()?.();
  for (const r of await Promise.all([first, second])) assert.equal(r.status, 200);
  assert.equal(queued.connections, 1, 'never more than maxConnections to the endpoint');
});

test('maxRequestsPerConnection: a connection is closed after N requests (1: no keep-alive)', async () => {
  for (let i = 0; i < 6; i++) assert.equal((await request(vip(2), 80)).status, 200);
  assert.equal(perConn.connections, 3);
  const before = idle.connections;
  for (let i = 0; i < 3; i++) assert.equal((await request(vip(12), 80)).status, 200);
  assert.equal(idle.connections - before, 3);
});

test('http.idleTimeout: a pooled connection idle past it is closed; the default pool keeps it', async () => {
  const start = idle.connections;
  for (let i = 0; i < 2; i++) {
    assert.equal((await request(vip(3), 80)).status, 200);
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(idle.connections - start, 2, 'a new connection after the idle timeout');
  const before = idle.connections;
  for (let i = 0; i < 2; i++) {
    assert.equal((await request(vip(4), 80)).status, 200);
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(idle.connections, before + 1, 'the Service without the rule reuses its connection');
});

test('tcp.connectTimeout: a peer that never completes the handshake is 503 UF connection timeout, well before the default', async () => {
  const start = Date.now();
  const res = await request(vip(5), 80);
  assert.equal(res.status, 503);
  assert.equal(res.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection timeout');
  assert.equal(mesh.records.findLast((r) => r.cluster?.includes('|slow-connect.'))?.flag, 'UF');
  assert.ok(Date.now() - start < 1500, `answered after ${Date.now() - start} ms (the mesh default is 2000 ms)`);
});

test('maxRetries 0: no retry past the budget (Istio would retry a connect failure twice)', async () => {
  const limited: Response = await request(vip(6), 80);
  assert.equal(limited.status, 503);
  assert.match(limited.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure/);
  const unlimited = await request(vip(7), 80);
  assert.match(unlimited.body, /retried and the latest reset reason: remote connection failure/);
});

test('h2UpgradePolicy UPGRADE: an HTTP/1.1 port is sent to the backend as h2c', async () => {
  const res = await request(vip(8), 80);
  assert.equal(res.body, 'HTTP/2.0');
});

/** One request over HTTP/2 prior knowledge to the waypoint. */
function h2Get(address: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}:80`);
    session.on('error', reject);
    const req = session.request({ ':path': path });
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      session.close();
      resolve(body);
    });
    req.on('error', reject);
    req.end();
  });
}

test('useClientProtocol: the client\'s version is kept (it wins over h2UpgradePolicy)', async () => {
  // An HTTP/1.1-only backend: UPGRADE alone would have sent h2c.
  assert.equal((await request(vip(9), 80)).body, 'HTTP/1.1');
  // An h2c-only backend behind an `http` port: the HTTP/2 client's version is kept.
  assert.equal(await h2Get(vip(11), '/'), 'HTTP/2.0');
});

test('maxConcurrentStreams 1: two concurrent requests open two HTTP/2 connections', async () => {
  const a = request(vip(10), 80, { path: '/hold' });
  const b = request(vip(10), 80, { path: '/hold' });
  await waitFor(() => streams.held.length === 2);
  assert.equal(streams.connections, 2);
  for (const r of streams.held.splice(0)) r();
  for (const r of await Promise.all([a, b])) assert.equal(r.body, 'HTTP/2.0');
});
