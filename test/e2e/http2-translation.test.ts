// End to end: HTTP/2 downstream and upstream and the translation between HTTP/1.1 and HTTP/2 both ways:
// prior-knowledge h2c on the same port as HTTP/1.1, bodies streamed, hop-by-hop fields dropped,
// trailers kept (to HTTP/1.1 clients only with `TE: trailers`), undeclared ports keeping the client's version.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
let h2backend: http2.Http2Server;
let h1backend: Backend;

interface H2Echo {
  readonly version: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly bodyBytes: number;
}

before(async () => {
  // HTTP/2-only backend: echoes the request as JSON and sends trailers.
  h2backend = http2.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const body: H2Echo = { version: req.httpVersion, method: req.method, path: req.url, headers: req.headers, bodyBytes: bytes };
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': 'h2' });
      res.addTrailers({ 'x-body-bytes': String(bytes) });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => h2backend.listen(0, '127.0.0.1', () => resolve()));
  const h2port = (h2backend.address() as AddressInfo).port;
  // HTTP/1.1 backend answering with chunked trailers.
  h1backend = await startBackend('h1', (req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', trailer: 'x-body-bytes', 'x-backend': 'h1' });
      res.write(JSON.stringify({ version: req.httpVersion, method: req.method, path: req.url, headers: req.headers, bodyBytes: bytes }));
      res.addTrailers({ 'x-body-bytes': String(bytes) });
      res.end();
    });
  });
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'h2svc', vip: vip(1), port: 8080, portName: 'http2-web', endpoints: [`127.0.0.1:${h2port}`] }),
      serviceYaml({ name: 'h1svc', vip: vip(2), port: 8080, portName: 'http', endpoints: [`127.0.0.1:${h1backend.port}`] }),
      serviceYaml({ name: 'auto', vip: vip(3), port: 8080, portName: 'custom', endpoints: [`127.0.0.1:${h2port}`] }),
    ].join(''),
  });
});

after(async () => {
  await mesh.close();
  await new Promise<void>((resolve) => h2backend.close(() => resolve()));
  await h1backend.close();
});

interface H1Result {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly trailers: NodeJS.Dict<string>;
  readonly body: string;
}

function h1(address: string, options: { path?: string; headers?: Record<string, string>; body?: Buffer }): Promise<H1Result> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address, port: 8080, method: 'POST', path: options.path ?? '/', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

interface H2Result {
  readonly headers: http2.IncomingHttpHeaders;
  readonly trailers: http2.IncomingHttpHeaders;
  readonly body: string;
}

function h2(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ...headers }, { endStream: body === undefined });
    let response: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (response = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ headers: response, trailers, body: Buffer.concat(chunks).toString() }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

test('HTTP/1.1 client to an HTTP/2 backend: body streamed, hop-by-hop fields dropped, Host becomes :authority', async () => {
  const body = Buffer.alloc(3 * 1024 * 1024, 1);
  const res = await h1(vip(1), { path: '/up?x=1', headers: { 'transfer-encoding': 'chunked', connection: 'keep-alive, x-hop', 'x-hop': 'no', 'keep-alive': 'timeout=5', 'x-kept': 'yes' }, body });
  assert.equal(res.status, 200);
  const echoed = JSON.parse(res.body) as H2Echo;
  assert.equal(echoed.version, '2.0');
  assert.equal(echoed.path, '/up?x=1');
  assert.equal(echoed.bodyBytes, body.length);
  assert.equal(echoed.headers[':authority'], `${vip(1)}:8080`);
  assert.equal(echoed.headers['x-kept'], 'yes');
  for (const dropped of ['x-hop', 'keep-alive', 'connection', 'transfer-encoding', 'host']) assert.equal(echoed.headers[dropped], undefined, dropped);
});

test('HTTP/1.1 client gets the HTTP/2 backend\'s trailers only when it sent TE: trailers', async () => {
  const withTe = await h1(vip(1), { headers: { te: 'trailers' }, body: Buffer.from('abc') });
  assert.equal(withTe.trailers['x-body-bytes'], '3');
  assert.equal(withTe.headers['transfer-encoding'], 'chunked');
  const without = await h1(vip(1), { body: Buffer.from('abc') });
  assert.equal(without.trailers['x-body-bytes'], undefined);
  assert.equal(JSON.parse(without.body).bodyBytes, 3);
});

test('HTTP/2 client to an HTTP/1.1 backend: :authority becomes Host, body without length is chunked, trailers come back', async () => {
  const session = http2.connect(`http://${vip(2)}:8080`);
  try {
    const res = await h2(session, { ':path': '/down', 'x-kept': 'yes' }, Buffer.alloc(100_000, 2));
    assert.equal(res.headers[":status"], 200, res.body + JSON.stringify(mesh.records));
    assert.equal(res.headers['x-backend'], 'h1');
    const echoed = JSON.parse(res.body) as H2Echo;
    assert.equal(echoed.version, '1.1');
    assert.equal(echoed.headers['host'], `${vip(2)}:8080`);
    assert.equal(echoed.headers['transfer-encoding'], 'chunked');
    assert.equal(echoed.bodyBytes, 100_000);
    assert.equal(res.trailers['x-body-bytes'], '100000');
  } finally {
    session.close();
  }
});

test('HTTP/1.1 and HTTP/2 on the same HTTP port, and many HTTP/2 streams multiplexed on one connection', async () => {
  const viaH1 = await h1(vip(2), { body: Buffer.from('x') });
  assert.equal(JSON.parse(viaH1.body).version, '1.1');
  const session = http2.connect(`http://${vip(2)}:8080`);
  try {
    const all = await Promise.all([...Array(100).keys()].map((i) => h2(session, { ':path': `/s/${i}` })));
    assert.deepEqual(all.map((r) => (JSON.parse(r.body) as H2Echo).path), [...Array(100).keys()].map((i) => `/s/${i}`));
  } finally {
    session.close();
  }
});

test('HTTP/2 end to end: a 20 MiB upload streams through with flow control, trailers kept', async () => {
  const session = http2.connect(`http://${vip(1)}:8080`);
  try {
    const res = await h2(session, { ':path': '/big' }, Buffer.alloc(20 * 1024 * 1024, 3));
    assert.equal((JSON.parse(res.body) as H2Echo).bodyBytes, 20 * 1024 * 1024);
    assert.equal(res.trailers['x-body-bytes'], String(20 * 1024 * 1024));
  } finally {
    session.close();
  }
});

test('an undeclared port sniffs HTTP/2 and keeps the client\'s version upstream', async () => {
  const session = http2.connect(`http://${vip(3)}:8080`);
  try {
    const res = await h2(session, { ':path': '/auto' });
    assert.equal((JSON.parse(res.body) as H2Echo).version, '2.0');
  } finally {
    session.close();
  }
});
