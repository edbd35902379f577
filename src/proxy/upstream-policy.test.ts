import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UpstreamFailure } from '../errors/upstream-errors.js';
import { backoffMs, DEFAULT_RETRY, retriableFailure, retriableResponse, type RetryPolicy } from './upstream-policy.js';

const responseCases = [
  { name: '503 under the default policy', policy: DEFAULT_RETRY, status: 503, headers: {}, want: true },
  { name: '500 under the default policy', policy: DEFAULT_RETRY, status: 500, headers: {}, want: false },
  { name: 'gRPC UNAVAILABLE (Trailers-Only)', policy: DEFAULT_RETRY, status: 200, headers: { 'grpc-status': '14' }, want: true },
  { name: 'gRPC CANCELLED (Trailers-Only)', policy: DEFAULT_RETRY, status: 200, headers: { 'grpc-status': '1' }, want: true },
  { name: 'gRPC INTERNAL', policy: DEFAULT_RETRY, status: 200, headers: { 'grpc-status': '13' }, want: false },
  { name: 'a listed code', policy: { ...DEFAULT_RETRY, statusCodes: new Set([500, 502]) }, status: 502, headers: {}, want: true },
];
for (const c of responseCases) {
  test(`retriableResponse: ${c.name}`, () => assert.equal(retriableResponse(c.policy, c.status, c.headers), c.want));
}

const failureCases: Array<{ failure: UpstreamFailure; want: boolean }> = [
  { failure: { reason: 'remote connection failure', transportFailure: 'delayed connect error: Connection refused' }, want: true },
  { failure: { reason: 'connection timeout', transportFailure: undefined }, want: true },
  { failure: { reason: 'remote refused stream reset', transportFailure: undefined }, want: true },
  { failure: { reason: 'connection termination', transportFailure: undefined }, want: false },
  { failure: { reason: 'remote reset', transportFailure: undefined }, want: false },
  { failure: { reason: 'protocol error', transportFailure: undefined }, want: false },
];
for (const c of failureCases) {
  test(`retriableFailure: ${c.failure.reason} → ${c.want}`, () => assert.equal(retriableFailure(c.failure), c.want));
}

test('backoff: never below the base, exponential, capped at 10 × base', () => {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, backoffBaseMs: 100, backoffMaxMs: 1000 };
  for (const r of [0, 0.5, 0.999]) {
    const delays = [1, 2, 3, 4, 5, 6].map((n) => backoffMs(policy, n, () => r));
    assert.ok(delays[0] !== undefined && delays[0] >= 100 && delays[0] < 150, `first: ${delays[0]}`);
    assert.ok(delays[1] !== undefined && delays[1] >= 200 && delays[1] < 300, `second: ${delays[1]}`);
    for (const d of delays) assert.ok(d <= 1000, `capped: ${d}`);
    assert.equal(delays[5], 1000, 'reaches the cap');
  }
});
