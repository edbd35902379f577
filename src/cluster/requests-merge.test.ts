import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeRequests, type WorkerRequests } from './requests-merge.js';

const trace = (id: number, second: number): Record<string, unknown> => ({ id, time: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString() });
const parts: WorkerRequests[] = [
  { worker: 1, capacity: 256, requests: [trace(3, 50), trace(2, 20), trace(1, 10)] },
  { worker: 2, capacity: 256, requests: [trace(2, 40), trace(1, 30)] },
];

const cases: ReadonlyArray<{ readonly name: string; readonly limit: number | undefined; readonly expected: ReadonlyArray<readonly [number, number]> }> = [
  { name: 'all requests newest first, tagged with their worker', limit: undefined, expected: [[1, 3], [2, 2], [2, 1], [1, 2], [1, 1]] },
  { name: 'cut to the limit after merging', limit: 2, expected: [[1, 3], [2, 2]] },
  { name: 'limit 0 keeps none', limit: 0, expected: [] },
];

for (const c of cases) {
  test(c.name, () => {
    const merged = mergeRequests(parts, c.limit);
    assert.equal(merged.capacity, 512);
    assert.deepEqual(merged.requests.map((r) => [r.worker, r.id]), c.expected);
  });
}
