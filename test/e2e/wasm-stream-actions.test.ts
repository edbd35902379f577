// End to end: proxy-wasm stream actions with real AssemblyScript plugins. A plugin pauses the response
// headers, makes an http_call and adds a header from the answer before continuing (or replaces the held
// response locally; a held body over the buffer limit is answered 500); another reads and edits request
// trailers (HTTP/2 and chunked HTTP/1.1 downstream), which reach a real HTTP/2 backend as edited.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { serviceYaml } from '../harness/config.js';
import { asPlugin } from '../fixtures/wasm/build.js';
import { startWasmMesh, type WasmMesh } from './wasm-harness.js';

let m: WasmMesh;
let authz: Backend;
let h2backend: http2.Http2Server;
let pauseResponse: Uint8Array;
let requestTrailers: Uint8Array;
const BIG = 2 * 1024 * 1024;

/** front: `/chunked` streams its body in two writes; `/big` sends 2 MiB; anything else echoes the path. */
function front(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  req.on('end', () => {
    if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part1-');
      setTimeout(() => res.end('part2'), 20);
    } else if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG });
      res.end(Buffer.alloc(BIG, 0x61));
    } else {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': 'front' });
      res.end(`front saw ${req.url ?? ''}`);
    }
  });
}

interface TrailerEcho { readonly body: string; readonly trailers: Record<string, string | undefined> }

before(async () => {
  // The http_call target: 200 `<user>-ok:<status>` for alice (`alice-slow` answers after 200 ms), 403 otherwise.
  authz = await startBackend('authz', (req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const user = q.get('user') ?? '';
    const ok = user.startsWith('alice') && req.headers['x-from'] === 'wasm';
    setTimeout(() => {
      res.writeHead(ok ? 200 : 403, { 'content-type': 'text/plain' });
      res.end(ok ? `${user}-ok:${q.get('status') ?? ''}` : 'no');
    }, user === 'alice-slow' ? 200 : 0);
  });
  // HTTP/2-only backend: answers with the body and the request trailers it received.
  h2backend = http2.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const echo: TrailerEcho = { body: Buffer.concat(chunks).toString('utf8'), trailers: req.trailers as Record<string, string | undefined> };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((resolve) => h2backend.listen(0, '127.0.0.1', () => resolve()));
  const h2port = (h2backend.address() as AddressInfo).port;
  m = await startWasmMesh(front, (vip) => [
    serviceYaml({ name: 'authz', vip: vip(2), endpoints: [`127.0.0.1:${authz.port}`] }),
    serviceYaml({ name: 'h2svc', vip: vip(3), portName: 'http2', endpoints: [`127.0.0.1:${h2port}`] }),
  ].join('\n'));
  pauseResponse = await asPlugin('pause-response');
  requestTrailers = await asPlugin('request-trailers');
  const [a] = m.install([{ name: 'pause', bytes: pauseResponse, configuration: JSON.stringify({ upstream: 'outbound|80||authz.default.svc.cluster.local' }) }]);
  assert.equal(a?.ok, true, a?.ok === false ? a.reason : '');
  const [b] = m.install([{ name: 'trailers', bytes: requestTrailers }], 'h2svc');
  assert.equal(b?.ok, true, b?.ok === false ? b.reason : '');
});

after(async () => {
  await m.close();
  await authz.close();
  await new Promise<void>((resolve) => h2backend.close(() => resolve()));
});

const last = () => m.mesh.records.at(-1);
const h2svcVip = (): string => m.vip.replace(/\.1$/, '.3');

// ---- response headers paused until the plugin continues (or answers) ----

for (const c of [
  { name: 'paused response headers: http_call, a header from its answer, then continue', user: 'alice', path: '/x', status: 200, answer: 'alice-ok:200', body: 'front saw /x', details: 'via_upstream' },
  { name: 'a body that arrives while the head is held goes out whole after continue', user: 'alice-slow', path: '/chunked', status: 200, answer: 'alice-slow-ok:200', body: 'part1-part2', details: 'via_upstream' },
  { name: 'a local response from the http_call answer replaces the held response', user: 'bob', path: '/x', status: 403, answer: undefined, body: 'denied after response', details: 'response_denied' },
]) {
  test(c.name, async () => {
    const res = await request(m.vip, 80, { path: c.path, headers: { 'x-user': c.user } });
    assert.equal(res.status, c.status, res.body);
    assert.equal(res.body, c.body);
    assert.equal(res.headers['x-call-answer'], c.answer);
    if (c.status === 403) assert.equal(res.headers['x-denied-by'], 'pause-response');
    else assert.equal(res.headers['x-backend'], c.path === '/x' ? 'front' : undefined);
    assert.equal(last()?.details, c.details);
  });
}

test('a held response body past the 1 MiB buffer limit is answered 500 (Envoy response_payload_too_large)', async () => {
  const res = await request(m.vip, 80, { path: '/big', headers: { 'x-hold': 'forever' } });
  assert.equal(res.status, 500);
  assert.equal(res.body, 'Internal Server Error');
  assert.equal(last()?.details, 'response_payload_too_large');
});

test('HTTP/2 downstream: the paused head goes out with the added header', async () => {
  const client = http2.connect(`http://${m.vip}:80`);
  try {
    const { headers, body } = await h2Request(client, { ':method': 'GET', ':path': '/x', 'x-user': 'alice' }, undefined, undefined);
    assert.equal(headers[':status'], 200);
    assert.equal(headers['x-call-answer'], 'alice-ok:200');
    assert.equal(body, 'front saw /x');
  } finally {
    client.close();
  }
});

// ---- request trailers ----

function h2Request(client: http2.ClientHttp2Session, head: http2.OutgoingHttpHeaders, body: string | undefined, trailers: Record<string, string> | undefined): Promise<{ headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = client.request(head, trailers === undefined ? { endStream: body === undefined } : { waitForTrailers: true });
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ headers, body: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

/** Chunked HTTP/1.1 POST with trailers. */
function h1ChunkedWithTrailers(address: string, body: string, trailers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address, port: 80, method: 'POST', path: '/t', agent: false, headers: { trailer: Object.keys(trailers).join(', ') } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.write(body);
    req.addTrailers(trailers);
    req.end();
  });
}

const sent = { 'x-checksum': 'abc', 'x-drop-me': '1', 'x-keep': 'k' };
const edited = { 'x-checksum': 'abc-seen', 'x-drop-me': undefined, 'x-keep': 'k', 'x-wasm-trailer': 'added', 'x-trailer-count': '3/3' };

for (const c of [
  { name: 'HTTP/2 downstream: request trailers read and edited by the plugin reach the HTTP/2 backend', via: 'h2' },
  { name: 'chunked HTTP/1.1 downstream: request trailers read and edited by the plugin reach the HTTP/2 backend', via: 'h1' },
]) {
  test(c.name, async () => {
    let status: number;
    let text: string;
    if (c.via === 'h2') {
      const client = http2.connect(`http://${h2svcVip()}:80`);
      try {
        const r = await h2Request(client, { ':method': 'POST', ':path': '/t' }, 'payload', sent);
        status = Number(r.headers[':status']);
        text = r.body;
      } finally {
        client.close();
      }
    } else {
      const r = await h1ChunkedWithTrailers(h2svcVip(), 'payload', sent);
      status = r.status;
      text = r.body;
    }
    assert.equal(status, 200, text);
    const echo = JSON.parse(text) as TrailerEcho;
    assert.equal(echo.body, 'payload');
    for (const [name, value] of Object.entries(edited)) assert.equal(echo.trailers[name], value, name);
  });
}

test('a request without trailers skips the phase and reaches the HTTP/2 backend with none', async () => {
  const res = await request(h2svcVip(), 80, { method: 'POST', path: '/t', body: 'plain' });
  assert.equal(res.status, 200, res.body);
  const echo = JSON.parse(res.body) as TrailerEcho;
  assert.equal(echo.body, 'plain');
  assert.deepEqual(Object.keys(echo.trailers), []);
});

test('a local response from the request-trailers phase answers instead of the backend', async () => {
  const client = http2.connect(`http://${h2svcVip()}:80`);
  try {
    const r = await h2Request(client, { ':method': 'POST', ':path': '/t' }, 'payload', { 'x-deny': '1' });
    assert.equal(r.headers[':status'], 403);
    assert.equal(r.body, 'denied by trailer');
    assert.equal(last()?.details, 'trailer_denied');
  } finally {
    client.close();
  }
});
