// Conformance, part 2: timeouts (HTTPRouteRequestTimeout, HTTPRouteBackendTimeout) and retries
// (HTTPRouteRetry, backoff, with timeouts), re-expressed from the Gateway API suite with echo-basic's
// retry simulation, plus Istio's default retry policy, host avoidance and the bounded replay buffer.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ConformanceMesh, meshRoute } from './fixture.js';

const toV1 = '    backendRefs:\n    - name: echo-v1\n      port: 80';

const ROUTES = [
  meshRoute('timeouts', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /timeout/request } }]
    timeouts: { request: 500ms }
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /timeout/backend } }]
    timeouts: { backendRequest: 500ms }
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /timeout/disabled } }]
    timeouts: { request: 0s }
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /timeout/per-try } }]
    retry: { attempts: 2 }
    timeouts: { backendRequest: 300ms }
${toV1}`),
  // conformance/tests/httproute-retry.yaml and httproute-retry-with-timeouts.yaml.
  meshRoute('retries', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /retry/code-500-attempts-3 } }]
    retry: { codes: [500], attempts: 3 }
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /retry/code-all-attempts-2 } }]
    retry: { codes: [500, 502, 503, 504], attempts: 2 }
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /retry/code-all-attempts-0 } }]
    retry: { codes: [500, 502, 503, 504], attempts: 0 }
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /retry/backend-request-timeout-200ms } }]
    retry: { attempts: 2 }
    timeouts: { backendRequest: 200ms }
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /retry/request-timeout-200ms } }]
    retry: { codes: [500], attempts: 5 }
    timeouts: { backendRequest: 200ms, request: 400ms }
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /retry/backoff } }]
    retry: { codes: [500], attempts: 2, backoff: 200ms }
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /retry/no-codes } }]
    retry: { attempts: 2 }
${toV1}`),
  // No retry stanza: Istio's default policy applies.
  meshRoute('defaults', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /default-retry } }]
${toV1}`),
];

let cm: ConformanceMesh;

before(async () => {
  // A Service with one endpoint that refuses connections (nothing listens there) and one that works.
  cm = await ConformanceMesh.start(ROUTES.join(''), async (_port, pods) => [{ name: 'half-dead', addresses: ['127.0.0.99', pods.get('echo-v1')?.address ?? ''] }]);
});

after(async () => {
  await cm.close();
});

/** Requests echo-v1 received carrying this uuid. */
function hits(uuid: string): number {
  return cm.pod('echo-v1').log.filter((r) => r.path.includes(uuid)).length;
}

function sim(path: string, params: Record<string, string>): { path: string; uuid: string } {
  const uuid = randomUUID();
  return { path: `${path}?${new URLSearchParams({ ...params, uuid }).toString()}`, uuid };
}

interface RetryCase {
  readonly name: string;
  readonly feature: string;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly status: number;
  /** Requests the backend must have received. */
  readonly attempts: number;
  readonly body?: string;
}

const retryCases: RetryCase[] = [
  { name: 'succeeds after 2 retries on 500 (codes [500], attempts 3)', feature: 'HTTPRouteRetry', path: '/retry/code-500-attempts-3', params: { responseCode: '500', succeedAfter: '2' }, status: 200, attempts: 3 },
  { name: 'fails when the retries needed exceed attempts', feature: 'HTTPRouteRetry', path: '/retry/code-500-attempts-3', params: { responseCode: '500', succeedAfter: '4' }, status: 500, attempts: 4 },
  { name: 'does not retry 503 when only 500 is listed', feature: 'HTTPRouteRetry', path: '/retry/code-500-attempts-3', params: { responseCode: '503', succeedAfter: '2' }, status: 503, attempts: 1 },
  { name: 'succeeds after 1 retry on 500 (attempts 2)', feature: 'HTTPRouteRetry', path: '/retry/code-all-attempts-2', params: { responseCode: '500', succeedAfter: '1' }, status: 200, attempts: 2 },
  { name: 'fails on 500 after attempts 2', feature: 'HTTPRouteRetry', path: '/retry/code-all-attempts-2', params: { responseCode: '500', succeedAfter: '3' }, status: 500, attempts: 3 },
  { name: 'succeeds after 1 retry on 502', feature: 'HTTPRouteRetry', path: '/retry/code-all-attempts-2', params: { responseCode: '502', succeedAfter: '1' }, status: 200, attempts: 2 },
  { name: 'fails on 502 after attempts 2', feature: 'HTTPRouteRetry', path: '/retry/code-all-attempts-2', params: { responseCode: '502', succeedAfter: '3' }, status: 502, attempts: 3 },
  { name: 'succeeds after 1 retry on 503', feature: 'HTTPRouteRetry', path: '/retry/code-all-attempts-2', params: { responseCode: '503', succeedAfter: '1' }, status: 200, attempts: 2 },
  { name: 'fails on 503 after attempts 2', feature: 'HTTPRouteRetry', path: '/retry/code-all-attempts-2', params: { responseCode: '503', succeedAfter: '3' }, status: 503, attempts: 3 },
  { name: 'succeeds after 1 retry on 504', feature: 'HTTPRouteRetry', path: '/retry/code-all-attempts-2', params: { responseCode: '504', succeedAfter: '1' }, status: 200, attempts: 2 },
  { name: 'fails on 504 after attempts 2', feature: 'HTTPRouteRetry', path: '/retry/code-all-attempts-2', params: { responseCode: '504', succeedAfter: '3' }, status: 504, attempts: 3 },
  { name: 'attempts 0 disables retries', feature: 'HTTPRouteRetry', path: '/retry/code-all-attempts-0', params: { responseCode: '500', succeedAfter: '1' }, status: 500, attempts: 1 },
  { name: 'a retry stanza without codes retries no status code', feature: 'HTTPRouteRetry', path: '/retry/no-codes', params: { responseCode: '503', succeedAfter: '1' }, status: 503, attempts: 1 },
  {
    name: 'succeeds after 2 retries on backend timeout (backendRequest 200ms, attempts 2)', feature: 'HTTPRouteRetryBackendTimeout',
    path: '/retry/backend-request-timeout-200ms', params: { responseCode: '500', succeedAfter: '2', delayRetry: '300ms' }, status: 200, attempts: 3,
  },
  {
    name: 'fails with 504 when backend timeouts exceed attempts', feature: 'HTTPRouteRetryBackendTimeout',
    path: '/retry/backend-request-timeout-200ms', params: { responseCode: '500', succeedAfter: '3', delayRetry: '300ms' }, status: 504, attempts: 3,
  },
  { name: 'succeeds when retries complete within the request timeout', feature: 'HTTPRouteRetry + HTTPRouteRequestTimeout', path: '/retry/request-timeout-200ms', params: { responseCode: '500', succeedAfter: '1' }, status: 200, attempts: 2 },
  {
    name: 'fails with 504 when retry delays exceed the request timeout', feature: 'HTTPRouteRetry + HTTPRouteRequestTimeout',
    path: '/retry/request-timeout-200ms', params: { responseCode: '500', succeedAfter: '4', delayRetry: '100ms' }, status: 504, attempts: -1,
  },
  { name: 'no retry stanza: Istio retries 503 twice', feature: 'Istio default retry', path: '/default-retry', params: { responseCode: '503', succeedAfter: '2' }, status: 200, attempts: 3 },
  { name: 'no retry stanza: 503 after 3 attempts is passed on', feature: 'Istio default retry', path: '/default-retry', params: { responseCode: '503', succeedAfter: '3' }, status: 503, attempts: 3 },
  { name: 'no retry stanza: 500 is not retried', feature: 'Istio default retry', path: '/default-retry', params: { responseCode: '500', succeedAfter: '1' }, status: 500, attempts: 1 },
  {
    name: 'per-try timeouts are retried; the third attempt answers in time', feature: 'HTTPRouteBackendTimeout', path: '/timeout/per-try',
    params: { responseCode: '500', succeedAfter: '2', delayRetry: '1s' }, status: 200, attempts: 3,
  },
  { name: 'a reset after the request was sent is not retried', feature: 'HTTPRouteRetry', path: '/retry/code-500-attempts-3', params: { succeedAfter: '1' }, status: 503, attempts: 1 },
  {
    name: 'a request body is replayed on every attempt', feature: 'HTTPRouteRetry', path: '/retry/code-500-attempts-3', params: { responseCode: '500', succeedAfter: '2' },
    status: 200, attempts: 3, body: 'x'.repeat(10_000),
  },
  {
    name: 'a body beyond the replay buffer (1 MiB) is not retried', feature: 'HTTPRouteRetry', path: '/retry/code-500-attempts-3', params: { responseCode: '500', succeedAfter: '1' },
    status: 500, attempts: 1, body: 'y'.repeat(2 * 1024 * 1024),
  },
];

for (const c of retryCases) {
  test(`${c.feature}: ${c.name}`, async () => {
    const { path, uuid } = sim(c.path, c.params);
    const reply = await cm.call({ path, method: c.body === undefined ? 'GET' : 'POST', ...(c.body === undefined ? {} : { body: c.body }) });
    assert.equal(reply.status, c.status, reply.body.slice(0, 200));
    if (c.attempts >= 0) assert.equal(hits(uuid), c.attempts, 'requests the backend received');
    if (c.body !== undefined) {
      for (const r of cm.pod('echo-v1').log.filter((x) => x.path.includes(uuid))) assert.equal(r.bodyBytes, Buffer.byteLength(c.body), 'whole body on every attempt');
    }
    // The waypoint's inbound routes do not send x-envoy-attempt-count (Istio sets it only for sidecars/gateways).
    for (const r of cm.pod('echo-v1').log.filter((x) => x.path.includes(uuid))) assert.equal(r.headers['x-envoy-attempt-count'], undefined);
  });
}

test('HTTPRouteRetry: the retries ran out on a retriable status: the response is passed on with flag URX', async () => {
  const { path } = sim('/retry/code-all-attempts-2', { responseCode: '503', succeedAfter: '3' });
  const reply = await cm.call({ path });
  assert.equal(reply.status, 503);
  assert.equal(reply.echo?.backend, 'echo-v1', 'the backend\'s own 503, not a local reply');
  assert.equal(cm.mesh.records.at(-1)?.flag, 'URX');
});

test('HTTPRouteRetry backoff: attempts are at least the backoff apart, growing', async () => {
  const { path, uuid } = sim('/retry/backoff', { responseCode: '500', succeedAfter: '2' });
  const started = Date.now();
  const reply = await cm.call({ path });
  assert.equal(reply.status, 200);
  assert.equal(hits(uuid), 3);
  // 200 ms before the first retry, 400 ms before the second (exponential from the base).
  assert.ok(Date.now() - started >= 590, `took ${Date.now() - started} ms`);
});

test('Istio default retry: a refused endpoint is retried on another host', async () => {
  for (let i = 0; i < 10; i++) {
    const reply = await cm.call({ service: 'half-dead', path: `/half-dead/${i}` });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.echo?.backend, 'echo-v1');
  }
});

interface TimeoutCase {
  readonly name: string;
  readonly feature: string;
  readonly path: string;
  readonly status: number;
  readonly body?: string;
  readonly flag?: string;
  readonly details?: string;
  readonly minMs?: number;
}

const timeoutCases: TimeoutCase[] = [
  {
    name: 'request timeout: 504 upstream request timeout, UT', feature: 'HTTPRouteRequestTimeout', path: '/timeout/request?delay=1500ms',
    status: 504, body: 'upstream request timeout', flag: 'UT', details: 'upstream_response_timeout', minMs: 490,
  },
  { name: 'request timeout: a fast answer passes', feature: 'HTTPRouteRequestTimeout', path: '/timeout/request?delay=50ms', status: 200 },
  {
    name: 'backendRequest without retry bounds the request (Istio)', feature: 'HTTPRouteBackendTimeout', path: '/timeout/backend?delay=1500ms',
    status: 504, body: 'upstream request timeout', flag: 'UT', details: 'upstream_response_timeout', minMs: 490,
  },
  { name: 'request 0s disables the timeout', feature: 'HTTPRouteRequestTimeout', path: '/timeout/disabled?delay=1200ms', status: 200, minMs: 1190 },
  {
    name: 'per-try timeout on every attempt: 504 upstream_per_try_timeout, UT,URX', feature: 'HTTPRouteBackendTimeout', path: '/timeout/per-try?delay=1s',
    status: 504, body: 'upstream request timeout', flag: 'UT,URX', details: 'upstream_per_try_timeout', minMs: 890,
  },
];

for (const c of timeoutCases) {
  test(`${c.feature}: ${c.name}`, async () => {
    const started = Date.now();
    const reply = await cm.call({ path: c.path });
    const took = Date.now() - started;
    assert.equal(reply.status, c.status, reply.body);
    if (c.body !== undefined) assert.equal(reply.body, c.body);
    const rec = cm.mesh.records.at(-1);
    if (c.flag !== undefined) assert.equal(rec?.flag, c.flag);
    if (c.details !== undefined) assert.equal(rec?.details, c.details);
    if (c.minMs !== undefined) assert.ok(took >= c.minMs, `answered after ${took} ms`);
  });
}

test('HTTPRouteRequestTimeout: the upstream is told the time it has (x-envoy-expected-rq-timeout-ms)', async () => {
  const reply = await cm.call({ path: '/timeout/request' });
  const told = Number(reply.echo?.headers['x-envoy-expected-rq-timeout-ms']);
  assert.ok(told > 0 && told <= 500, `x-envoy-expected-rq-timeout-ms: ${told}`);
  const none = await cm.call({ path: '/default-retry' });
  assert.equal(none.echo?.headers['x-envoy-expected-rq-timeout-ms'], undefined, 'no timeout, no header');
});

test('HTTPRouteRequestTimeout: a timeout after the response started resets the downstream (UT)', async () => {
  // Headers at once, the body after 1.5 s: the route timeout covers the whole response.
  const outcome = await cm.call({ path: '/timeout/request?bodyDelay=1500ms' }).then((r) => `status ${r.status}`, (e: Error) => `error ${e.message}`);
  assert.match(outcome, /^error /, 'the response is cut, not completed');
  const rec = cm.mesh.records.at(-1);
  assert.deepEqual([rec?.status, rec?.flag, rec?.details], [200, 'UT', 'upstream_response_timeout']);
});
