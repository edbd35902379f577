// End to end: what the waypoint does to requests and responses on the way through: headers added
// and removed, streaming bodies both ways, keep-alive reuse, load balancing, upstream failures.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { type Backend, type EchoReply, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
let echo1: Backend;
let echo2: Backend;
let stream: Backend;
const connections = new Set<string>();

before(async () => {
  echo1 = await startBackend('echo-1');
  // A second pod: same target port, another loopback address.
  echo2 = await startBackend('echo-2', undefined, '127.0.0.2', echo1.port);
  for (const b of [echo1, echo2]) b.server.on('connection', (s) => connections.add(`${s.remoteAddress}:${s.remotePort}`));
  // Streams: echoes the request body back chunk by chunk, and serves /download/N as N MiB.
  stream = await startBackend('stream', (req, res) => {
    const m = /^\/download\/(\d+)$/.exec(req.url ?? '');
    if (m !== null) {
      const total = Number(m[1]) * 1024 * 1024;
      res.writeHead(200, { 'content-length': total });
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'keep-alive': 'timeout=5' });
    req.pipe(res);
  });
  const refused = await unusedPort();
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'echo', vip: vip(1), endpoints: [`127.0.0.1:${echo1.port}`, `127.0.0.2:${echo2.port}`] }),
      serviceYaml({ name: 'stream', vip: vip(2), endpoints: [`127.0.0.1:${stream.port}`] }),
      serviceYaml({ name: 'refused', vip: vip(3), endpoints: [`127.0.0.1:${refused}`] }),
    ].join(''),
  });
});

after(async () => {
  await mesh.close();
  for (const b of [echo1, echo2, stream]) await b.close();
});

async function echoed(options: Parameters<typeof request>[2] = {}): Promise<EchoReply> {
  const res = await request(vip(1), 80, options);
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as EchoReply;
}

test('x-request-id is generated when absent and kept when present', async () => {
  const generated = await echoed();
  assert.match(String(generated.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const kept = await echoed({ headers: { 'x-request-id': 'abc-123' } });
  assert.equal(kept.headers['x-request-id'], 'abc-123');
});

test('x-forwarded-proto is set to http, Host and other headers pass through in order', async () => {
  const got = await echoed({ path: '/p?q=1', headers: { 'x-forwarded-proto': 'https', 'X-Custom': 'One', host: 'echo.default' } });
  assert.equal(got.headers['x-forwarded-proto'], 'http');
  assert.equal(got.headers['host'], 'echo.default');
  assert.equal(got.path, '/p?q=1');
  assert.ok(got.rawHeaders.includes('X-Custom'), 'header name case is preserved');
});

test('hop-by-hop request headers are removed (RFC 9110 7.6.1), including those named in Connection', async () => {
  const got = await echoed({ headers: { connection: 'keep-alive, x-drop-me', 'x-drop-me': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'proxy-connection': 'x', 'x-keep': '1' } });
  for (const h of ['x-drop-me', 'te', 'proxy-connection']) assert.equal(got.headers[h], undefined, h);
  assert.equal(got.headers['x-keep'], '1');
});

test('hop-by-hop response headers are removed and Envoy headers added', async () => {
  const res = await request(vip(2), 80, { method: 'POST', body: 'hi' });
  assert.equal(res.body, 'hi');
  assert.equal(res.headers['x-hop'], undefined);
  assert.equal(res.headers['server'], 'istio-envoy');
  assert.match(String(res.headers['x-envoy-upstream-service-time']), /^\d+$/);
});

test('a 20 MiB upload streams through and is echoed back whole', async () => {
  const body = Buffer.alloc(20 * 1024 * 1024, 97);
  const res = await request(vip(2), 80, { method: 'PUT', body });
  assert.equal(res.status, 200);
  assert.equal(res.body.length, body.length);
});

test('a 64 MiB download streams with backpressure to a slow reader', async () => {
  const received = await new Promise<number>((resolve, reject) => {
    http.get({ host: vip(2), port: 80, path: '/download/64', agent: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        // Read slowly at first so the waypoint has to pause its upstream.
        if (n < 4 * 1024 * 1024) {
          res.pause();
          setTimeout(() => res.resume(), 1);
        }
      });
      res.on('end', () => resolve(n));
      res.on('error', reject);
    }).on('error', reject);
  });
  assert.equal(received, 64 * 1024 * 1024);
});

test('upstream connections are kept alive and reused', async () => {
  connections.clear();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 30; i++) await echoed({ agent });
  agent.destroy();
  assert.ok(connections.size <= 4, `30 sequential requests used ${connections.size} upstream connections`);
});

test('requests are balanced over every ready endpoint', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) seen.add((await echoed()).backend);
  assert.deepEqual([...seen].sort(), ['echo-1', 'echo-2']);
});

test('connection refused: 503 with the reset reason and flag UF,URX after Istio\'s 2 default retries', async () => {
  const res = await request(vip(3), 80);
  assert.equal(res.status, 503);
  assert.equal(res.body, 'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused');
  const rec = mesh.records.at(-1);
  assert.deepEqual([rec?.flag, rec?.details], ['UF,URX', 'upstream_reset_before_response_started{remote_connection_failure}']);
});

test('HTTP/1.0 requests get 426 as in Istio', async () => {
  const res = await new Promise<string>((resolve, reject) => {
    const s = net.connect(80, vip(1), () => s.end('GET / HTTP/1.0\r\nHost: x\r\n\r\n'));
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString()));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
  assert.match(res, /^HTTP\/1\.1 426 /);
});
