// End to end: real proxy-wasm plugins written in AssemblyScript (test/fixtures/wasm/assembly, compiled from
// source) on a Service port, with a real backend behind the waypoint: headers added and removed, local
// responses, properties, bodies rewritten, http_call out to a mesh Service, metrics on /stats/prometheus,
// shared data, queues and ticks, and one plugin's state invisible to another.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, test } from 'node:test';
import { type Backend, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { serviceYaml } from '../harness/config.js';
import { type AsPlugin, asPlugin } from '../fixtures/wasm/build.js';
import { startWasmMesh, type WasmMesh } from './wasm-harness.js';

let m: WasmMesh;
let authz: Backend;
const plugins = new Map<string, Uint8Array>();

/** Echoes method, path, headers and the body it received; `x-ask-deny` makes it send `x-backend-deny`. */
function backend(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const text = JSON.stringify({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    const extra: Record<string, string> = req.headers['x-ask-deny'] === undefined ? {} : { 'x-backend-deny': '1' };
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
    res.end(text);
  });
}

before(async () => {
  authz = await startBackend('authz', (req, res) => {
    const user = new URL(req.url ?? '/', 'http://x').searchParams.get('user');
    const ok = user === 'alice' && req.headers['x-from'] === 'wasm' && req.headers.host === 'authz.local';
    res.writeHead(ok ? 200 : 403, { 'content-type': 'text/plain' });
    res.end(ok ? `${user}-ok` : 'no');
  });
  m = await startWasmMesh(backend, (vip) => serviceYaml({ name: 'authz', vip: vip(2), endpoints: [`127.0.0.1:${authz.port}`] }));
  for (const name of ['add-header', 'deny', 'body-rewrite', 'http-call', 'metrics-shared'] as AsPlugin[]) plugins.set(name, await asPlugin(name));
});
after(async () => {
  await m.close();
  await authz.close();
});

const bytes = (name: string): Uint8Array => plugins.get(name) ?? new Uint8Array(0);
interface Echo { readonly method: string; readonly path: string; readonly headers: Record<string, string | undefined>; readonly body: string }
const echoed = (body: string): Echo => JSON.parse(body) as Echo;
const last = () => m.mesh.records.at(-1);

test('adds and removes request headers and adds a response header', async () => {
  const [r] = m.install([{ name: 'add-header', bytes: bytes('add-header'), configuration: 'from-config' }]);
  assert.equal(r?.ok, true, r?.ok === false ? r.reason : '');
  const res = await request(m.vip, 80, { path: '/x', headers: { 'x-remove-me': 'gone', 'x-keep': 'kept' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-wasm-response'], 'hit');
  const e = echoed(res.body);
  assert.equal(e.headers['x-wasm-request'], 'from-config');
  assert.equal(e.headers['x-remove-me'], undefined);
  assert.equal(e.headers['x-keep'], 'kept');
});

for (const c of [
  { name: 'denies with a local response: status, body, headers and details', headers: { 'x-deny': 'yes' }, status: 403, body: 'denied: yes\n', details: 'denied_by_wasm', header: ['x-denied-by', 'wasm-deny'] },
  { name: 'a local response from the response phase replaces the upstream response', headers: { 'x-ask-deny': '1' }, status: 502, body: 'replaced by wasm', details: 'wasm_local_reply', header: ['server', 'istio-envoy'] },
]) {
  test(c.name, async () => {
    m.install([{ name: 'deny', bytes: bytes('deny'), rootId: 'deny-root' }]);
    const res = await request(m.vip, 80, { path: '/', headers: c.headers });
    assert.equal(res.status, c.status);
    assert.equal(res.body, c.body);
    assert.equal(res.headers[c.header[0] ?? ''], c.header[1]);
    assert.equal(last()?.details, c.details);
  });
}

test('reads properties and pseudo-headers, rewrites :path, sees :status', async () => {
  m.install([{ name: 'deny', bytes: bytes('deny'), rootId: 'deny-root' }]);
  const res = await request(m.vip, 80, { path: '/props?q=1', headers: { 'x-rewrite-path': '1' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-upstream-status'], '200');
  const e = echoed(res.body);
  assert.equal(e.path, '/rewritten');
  assert.equal(e.headers['x-plugin-root'], 'deny-root');
  assert.equal(e.headers['x-plugin-name'], 'default.deny');
  assert.equal(e.headers['x-request-path'], '/props?q=1');
  assert.match(e.headers['x-source-address'] ?? '', /^127\.0\.0\.1:\d+$/);
  assert.equal(e.headers['x-method'], 'GET');
  assert.ok(Number(e.headers['x-header-count']) >= 6, `pseudo-headers and fields counted: ${e.headers['x-header-count']}`);
});

test('rewrites request and response bodies (held to the end of stream)', async () => {
  m.install([{ name: 'body', bytes: bytes('body-rewrite') }]);
  const res = await request(m.vip, 80, { method: 'POST', path: '/body', body: 'hello wasm body', headers: { 'content-type': 'text/plain' } });
  assert.equal(res.status, 200);
  assert.ok(res.body.startsWith('wasm:'), res.body);
  const e = echoed(res.body.slice('wasm:'.length));
  assert.equal(e.body, 'HELLO WASM BODY');
  // The plugin removed content-length: the upstream gets the new body chunked, or with its own length when
  // the whole body was already known when the request went out.
  const length = e.headers['content-length'];
  assert.ok(length === undefined || length === String(Buffer.byteLength(e.body)), `content-length ${length}`);
});

test('a body-phase local response ends the request before it is answered upstream', async () => {
  m.install([{ name: 'body', bytes: bytes('body-rewrite') }]);
  const res = await request(m.vip, 80, { method: 'POST', path: '/body', body: 'deny-body' });
  assert.equal(res.status, 400);
  assert.equal(res.body, 'body refused by wasm');
  assert.equal(last()?.details, 'body_denied');
});

test('a held request body over the 1 MiB buffer limit is answered 413', async () => {
  m.install([{ name: 'body', bytes: bytes('body-rewrite') }]);
  const res = await request(m.vip, 80, { method: 'POST', path: '/big', body: Buffer.alloc(1024 * 1024 + 4096, 0x61) });
  assert.equal(res.status, 413);
  assert.equal(res.body, 'Payload Too Large');
  assert.equal(last()?.details, 'request_payload_too_large');
});

test('bodies stream untouched through a plugin without body phases', async () => {
  m.install([{ name: 'add-header', bytes: bytes('add-header') }]);
  const res = await request(m.vip, 80, { method: 'POST', path: '/plain', body: 'as is' });
  assert.equal(echoed(res.body).body, 'as is');
  assert.equal(echoed(res.body).headers['content-length'], '5');
});

for (const c of [
  { name: 'http_call to a mesh Service, then continue with its answer', user: 'alice', upstream: 'outbound|80||authz.default.svc.cluster.local', status: 200, authz: 'alice-ok' },
  { name: 'http_call answer other than 200: the plugin denies', user: 'bob', upstream: 'authz.default.svc.cluster.local:80', status: 403, details: 'authz_denied' },
  { name: 'http_call to an address nobody listens on: the plugin sees a failed call', user: 'alice', upstream: 'unused', status: 503, details: 'authz_unreachable' },
  { name: 'http_call to an unknown upstream is refused (BadArgument)', user: 'alice', upstream: 'no-such-cluster', status: 500, details: 'http_call_refused' },
]) {
  test(c.name, async () => {
    const upstream = c.upstream === 'unused' ? `127.0.0.1:${await unusedPort()}` : c.upstream;
    m.install([{ name: 'authz', bytes: bytes('http-call'), configuration: JSON.stringify({ upstream }) }]);
    const res = await request(m.vip, 80, { path: '/guarded', headers: { 'x-user': c.user } });
    assert.equal(res.status, c.status, res.body);
    if (c.authz !== undefined) assert.equal(echoed(res.body).headers['x-authz'], c.authz);
    if (c.details !== undefined) assert.equal(last()?.details, c.details);
  });
}

test('metrics are counted and exported on /stats/prometheus; shared data with CAS, queues and ticks work', async () => {
  m.install([{ name: 'metrics', bytes: bytes('metrics-shared') }]);
  const hits: string[] = [];
  let lastEvent = '';
  for (const path of ['/a', '/bb', '/ccc']) {
    const res = await request(m.vip, 80, { path });
    hits.push(String(res.headers['x-hits']));
    assert.equal(res.headers['x-counter'], String(hits.length));
    lastEvent = String(res.headers['x-last-event']);
  }
  assert.deepEqual(hits, ['1', '2', '3']);
  // Queue items reach proxy_on_queue_ready asynchronously (a later turn of the event loop), then shared data.
  assert.match(lastEvent, /^\/(a|bb|ccc)$/);
  let ticks = 0;
  for (let i = 0; i < 50 && ticks === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    ticks = Number((await request(m.vip, 80, { path: '/t' })).headers['x-ticks']);
  }
  assert.ok(ticks > 0, 'proxy_on_tick ran');
  const scrape = await request(m.mesh.admin.split(':')[0] ?? '', Number(m.mesh.admin.split(':')[1]), { path: '/stats/prometheus' });
  assert.match(scrape.body, /# TYPE wasm_test_requests_total counter\n/);
  assert.match(scrape.body, /\nwasm_test_requests_total\{wasm_plugin="default\/metrics"\} [4-9]\d*\n/);
  assert.match(scrape.body, /\nwasm_test_last_path_length\{wasm_plugin="default\/metrics"\} 2\n/);
  assert.match(scrape.body, /\nwasm_test_path_length_bucket\{wasm_plugin="default\/metrics",le="1"\} 0\n/);
  assert.match(scrape.body, /\nwasm_test_path_length_bucket\{wasm_plugin="default\/metrics",le="5"\} [4-9]\d*\n/);
});

test("one plugin's shared data and metrics are invisible to another plugin running the same module", async () => {
  m.install([{ name: 'metrics-b', bytes: bytes('metrics-shared') }]);
  const res = await request(m.vip, 80, { path: '/b' });
  assert.equal(res.headers['x-hits'], '1');
  assert.equal(res.headers['x-counter'], '1');
  const scrape = await request(m.mesh.admin.split(':')[0] ?? '', Number(m.mesh.admin.split(':')[1]), { path: '/stats/prometheus' });
  assert.match(scrape.body, /\nwasm_test_requests_total\{wasm_plugin="default\/metrics-b"\} 1\n/);
  assert.match(scrape.body, /\nwasm_test_requests_total\{wasm_plugin="default\/metrics"\} [4-9]\d*\n/);
});
