import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RollingSeries } from '../debug/rolling-series.js';
import type { FailureRecord, TrafficStats } from '../debug/traffic-stats.js';
import { mergeTrafficStats } from './stats-merge.js';

const NOW = 1_700_000_000;

/** [second offset from NOW, status, latency ms] */
type Sample = readonly [number, number, number];

function statsOf(samples: ReadonlyArray<Sample>, now = NOW, failures: FailureRecord[] = []): TrafficStats {
  const s = new RollingSeries();
  for (const [dt, status, ms] of samples) s.record(now + dt, status, ms);
  const series = { key: 'default/web', summary: s.summary(now, 10, true), points: s.points(now, 5, true) };
  return { now, summarySeconds: 10, total: { ...series, key: 'total' }, services: [series], routes: [], failures, droppedSeries: 0 };
}

function failure(time: number): FailureRecord {
  return { time, service: 'default/web', route: '-', method: 'GET', path: '/', source: '-', status: 503, flags: 'UH', details: '-', authz: '-' };
}

const a: Sample[] = [[0, 200, 1], [0, 200, 2], [-1, 503, 40], [-3, 200, 0.2], [-3, 403, 5]];
const b: Sample[] = [[0, 200, 100], [-1, 200, 250], [-1, 200, 800], [-2, 200, 3]];

const cases: ReadonlyArray<{ readonly name: string; readonly parts: TrafficStats[]; readonly expected: TrafficStats }> = [
  {
    name: 'counts are summed and percentiles come from the summed histogram (equal to one recorder seeing all)',
    parts: [statsOf(a), statsOf(b)],
    expected: statsOf([...a, ...b]),
  },
  {
    name: 'a worker that read one second earlier is aligned on epoch seconds',
    parts: [statsOf(a), statsOf(b, NOW - 1)],
    expected: statsOf([...a, ...b.map(([dt, st, ms]): Sample => [dt - 1, st, ms])]),
  },
];

for (const c of cases) {
  test(c.name, () => {
    const merged = mergeTrafficStats(c.parts, true);
    assert.deepEqual(merged.total.summary, c.expected.total.summary);
    assert.deepEqual(merged.total.points, c.expected.total.points);
    assert.deepEqual(merged.services, c.expected.services);
  });
}

test('without buckets asked for, the merged answer has the shape one worker gives', () => {
  const merged = mergeTrafficStats([statsOf(a), statsOf(b)], false);
  assert.equal(merged.total.summary.latency, undefined);
  assert.equal(merged.total.points?.latency, undefined);
  assert.equal(merged.total.summary.requests, a.length + b.length);
  assert.ok(merged.total.summary.p99 !== null && merged.total.summary.p99 > 500, 'p99 reflects the slow worker');
});

test('failures are merged newest first and bounded', () => {
  const older = Array.from({ length: 80 }, (_, i) => failure(1000 + 2 * i)).reverse();
  const newer = Array.from({ length: 80 }, (_, i) => failure(1001 + 2 * i)).reverse();
  const merged = mergeTrafficStats([statsOf([], NOW, older), statsOf([], NOW, newer)], false);
  assert.equal(merged.failures.length, 100);
  assert.equal(merged.failures[0]?.time, 1001 + 2 * 79);
  assert.ok(merged.failures.every((f, i) => i === 0 || (merged.failures[i - 1]?.time ?? 0) > f.time));
});
