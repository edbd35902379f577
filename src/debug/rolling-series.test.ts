import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latencyBucket, percentile, RollingSeries, WINDOW_SECONDS } from './rolling-series.js';

const T = 1_700_000_000;

test('latency buckets: each bound is inclusive, anything beyond the last finite bound is open-ended', () => {
  const cases: ReadonlyArray<[number, number]> = [[0, 0], [0.5, 0], [0.51, 1], [1, 1], [7, 5], [7.6, 6], [100, 12], [1e9, 26]];
  for (const [ms, bucket] of cases) assert.equal(latencyBucket(ms), bucket, `${ms} ms`);
});

test('percentile interpolates inside the bucket and is null without data', () => {
  const hist = new Array<number>(27).fill(0);
  assert.equal(percentile(hist, 0, 0.5), null);
  hist[12] = 100; // (75, 100] ms
  assert.equal(percentile(hist, 100, 0.5), 87.5);
  assert.equal(percentile(hist, 100, 0.99), 99.75);
});

const cases: ReadonlyArray<{
  name: string;
  records: ReadonlyArray<[second: number, status: number, ms: number]>;
  now: number;
  seconds: number;
  want: { requests: number; errors: number; denied: number; errorRate: number };
}> = [
  { name: 'counts the window only', records: [[T - 20, 200, 1], [T - 5, 200, 1], [T, 200, 1]], now: T, seconds: 10, want: { requests: 2, errors: 0, denied: 0, errorRate: 0 } },
  { name: '5xx and resets are errors, 401/403 are denials', records: [[T, 503, 1], [T, 0, 1], [T, 403, 1], [T, 401, 1], [T, 404, 1]], now: T, seconds: 1, want: { requests: 5, errors: 2, denied: 2, errorRate: 0.4 } },
  { name: 'a slot reused a window later starts from zero', records: [[T, 500, 1], [T + WINDOW_SECONDS, 200, 1]], now: T + WINDOW_SECONDS, seconds: 60, want: { requests: 1, errors: 0, denied: 0, errorRate: 0 } },
  { name: 'nothing recorded lately', records: [[T, 200, 1]], now: T + 120, seconds: 60, want: { requests: 0, errors: 0, denied: 0, errorRate: 0 } },
];

for (const c of cases) {
  test(`summary: ${c.name}`, () => {
    const s = new RollingSeries();
    for (const [second, status, ms] of c.records) s.record(second, status, ms);
    const got = s.summary(c.now, c.seconds);
    assert.deepEqual({ requests: got.requests, errors: got.errors, denied: got.denied, errorRate: got.errorRate }, c.want);
  });
}

test('points: one per second, oldest first, empty seconds are zero with no latency', () => {
  const s = new RollingSeries();
  s.record(T - 2, 200, 3);
  s.record(T - 2, 500, 3);
  s.record(T, 200, 40);
  const p = s.points(T, 4);
  assert.equal(p.start, T - 3);
  assert.deepEqual(p.requests, [0, 2, 0, 1]);
  assert.deepEqual(p.errors, [0, 1, 0, 0]);
  assert.deepEqual(p.p50.map((v) => v !== null), [false, true, false, true]);
  assert.ok((p.p50[3] ?? 0) > 30 && (p.p50[3] ?? 0) <= 50);
  assert.equal(s.summary(T, 10).rps, 0.3);
});
