// End to end: VirtualService `retries` (retryOn policies, attempts 0, perTryTimeout, Istio's default without
// `retries`), `timeout` (504 UT), and `fault` injection: abort at 100% (Envoy's `fault filter abort`, FI), 0%
// and 50% (within a generous statistical bound), gRPC abort, delay at 100% (DI), delay then abort (DI,FI).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { type Backend, echo, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh, waitFor } from '../harness/mesh.js';

const vip = vipRange();
let mesh: TestMesh;
let backend: Backend;
const seen = new Map<string, number>();

/**
 * `?fail=N&code=C`: the first N requests to a path answer C (default 503); `?delay=ms` answers after a delay;
 * `?slowfirst=ms` delays only the first request to the path.
 */
function flaky(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, name: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const n = (seen.get(url.pathname) ?? 0) + 1;
  seen.set(url.pathname, n);
  const fail = Number(url.searchParams.get('fail') ?? 0);
  const delay = Number(url.searchParams.get('delay') ?? (n === 1 ? url.searchParams.get('slowfirst') ?? 0 : 0));
  const answer = (): void => {
    if (n <= fail) {
      res.writeHead(Number(url.searchParams.get('code') ?? 503), { 'content-length': '0' });
      res.end();
    } else echo(req, res, name);
  };
  if (delay > 0) setTimeout(answer, delay);
  else answer();
}

const route = (name: string, extra: string): string => `  - name: ${name}
    match: [{uri: {prefix: /${name}/}}]
    route: [{destination: {host: backend}}]
${extra.split('\n').map((l) => `    ${l}`).join('\n')}
`;

const VS = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: policy, namespace: default}
spec:
  hosts: [policy.default.svc.cluster.local]
  http:
${route('retry-5xx', 'retries: {attempts: 3, retryOn: 5xx}')}${route('retry-gateway', 'retries: {attempts: 1, retryOn: gateway-error}')}${route('retry-codes', 'retries: {attempts: 2, retryOn: "connect-failure,409"}')}${route('no-retry', 'retries: {attempts: 0}')}${route('default-retry', '')}${route('per-try', 'retries: {attempts: 1, perTryTimeout: 150ms, retryOn: 5xx}')}${route('timeout', 'timeout: 200ms')}${route('abort', 'fault: {abort: {httpStatus: 503, percentage: {value: 100}}}')}${route('abort-none', 'fault: {abort: {httpStatus: 503, percentage: {value: 0}}}')}${route('abort-half', 'fault: {abort: {httpStatus: 500, percentage: {value: 50}}}')}${route('abort-grpc', 'fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}}')}${route('delay', 'fault: {delay: {fixedDelay: 300ms, percentage: {value: 100}}}')}${route('delay-abort', 'fault: {delay: {fixedDelay: 50ms, percentage: {value: 100}}, abort: {httpStatus: 429, percentage: {value: 100}}}')}`;

before(async () => {
  backend = await startBackend('backend', flaky);
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'policy', vip: vip(1), endpoints: [`127.0.0.1:${backend.port}`] }),
      serviceYaml({ name: 'backend', vip: vip(2), endpoints: [`127.0.0.1:${backend.port}`] }),
      VS,
    ].join(''),
  });
});

after(async () => {
  await mesh.close();
  await backend.close();
});

const get = (path: string, headers: Record<string, string> = {}): ReturnType<typeof request> => request(vip(1), 80, { path, headers });

const retries: Array<{ name: string; path: string; status: number; hits: number }> = [
  { name: 'retryOn 5xx retries a 500 until it succeeds', path: '/retry-5xx/a?fail=2&code=500', status: 200, hits: 3 },
  { name: 'retryOn gateway-error with attempts 1: two attempts, the last 503 goes to the client', path: '/retry-gateway/a?fail=2', status: 503, hits: 2 },
  { name: 'retryOn gateway-error does not retry a 500', path: '/retry-gateway/b?fail=1&code=500', status: 500, hits: 1 },
  { name: 'retryOn with a status code (409) retries it', path: '/retry-codes/a?fail=1&code=409', status: 200, hits: 2 },
  { name: 'retryOn without 503 listed does not retry a 503', path: '/retry-codes/b?fail=1', status: 503, hits: 1 },
  { name: 'attempts 0 disables retries', path: '/no-retry/a?fail=1', status: 503, hits: 1 },
  { name: 'no retries field: Istio default retries a 503 twice', path: '/default-retry/a?fail=2', status: 200, hits: 3 },
  { name: 'perTryTimeout: a slow first attempt is retried', path: '/per-try/a?slowfirst=1000', status: 200, hits: 2 },
];

for (const c of retries) {
  test(`retries: ${c.name}`, async () => {
    const res = await get(c.path);
    assert.equal(res.status, c.status);
    assert.equal(seen.get(new URL(c.path, 'http://x').pathname), c.hits);
  });
}

test('timeout: a backend slower than the route timeout gets 504 upstream request timeout (UT)', async () => {
  const start = performance.now();
  const res = await get('/timeout/a?delay=2000');
  assert.equal(res.status, 504);
  assert.equal(res.body, 'upstream request timeout');
  assert.ok(performance.now() - start < 1500, 'answered at the timeout, not when the backend answered');
  await waitFor(() => mesh.records.some((r) => r.status === 504 && r.flag === 'UT'));
  assert.equal((await get('/timeout/b')).status, 200);
});

test('fault abort at 100%: Envoy\'s fault filter reply, flag FI, never forwarded', async () => {
  const hits = backend.hits();
  const res = await get('/abort/x');
  assert.equal(res.status, 503);
  assert.equal(res.body, 'fault filter abort');
  assert.equal(backend.hits(), hits);
  await waitFor(() => mesh.records.some((r) => r.flag === 'FI' && r.details === 'fault_filter_abort' && r.status === 503));
});

test('fault abort at 0%: every request is forwarded', async () => {
  for (let i = 0; i < 20; i++) assert.equal((await get('/abort-none/x')).status, 200);
});

test('fault abort at 50%: about half the requests are aborted', async () => {
  let aborted = 0;
  for (let i = 0; i < 200; i++) {
    const res = await get('/abort-half/x');
    if (res.status === 500) {
      assert.equal(res.body, 'fault filter abort');
      aborted++;
    } else assert.equal(res.status, 200);
  }
  assert.ok(aborted > 60 && aborted < 140, `${aborted} of 200 aborted (expected about 100)`);
});

test('fault abort with grpcStatus: gRPC clients get HTTP 200 and grpc-status; others the mapped HTTP status', async () => {
  const grpc = await request(vip(1), 80, { path: '/abort-grpc/pkg.Svc/Method', method: 'POST', headers: { 'content-type': 'application/grpc' } });
  assert.equal(grpc.status, 200);
  assert.equal(grpc.headers['grpc-status'], '14');
  assert.equal(grpc.headers['grpc-message'], 'fault filter abort');
  assert.equal((await get('/abort-grpc/plain')).status, 503);
});

test('fault delay at 100%: the request is forwarded after the delay, flag DI', async () => {
  const start = performance.now();
  const res = await get('/delay/x');
  const took = performance.now() - start;
  assert.equal(res.status, 200);
  assert.ok(took >= 280, `took ${took.toFixed(0)} ms (delay 300 ms)`);
  await waitFor(() => mesh.records.some((r) => r.flag === 'DI' && r.status === 200));
});

test('fault delay then abort: both flags (DI,FI)', async () => {
  const res = await get('/delay-abort/x');
  assert.equal(res.status, 429);
  await waitFor(() => mesh.records.some((r) => r.flag === 'DI,FI' && r.status === 429));
});
