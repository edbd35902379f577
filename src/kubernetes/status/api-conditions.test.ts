import assert from 'node:assert/strict';
import { test } from 'node:test';
import { condition } from '../../config/status.js';
import { mergeConditionList, sameJson, toApiConditions } from './api-conditions.js';

const NOW = '2025-01-02T03:04:05Z';
const OLD = '2024-01-01T00:00:00Z';

const transitions = [
  { name: 'new condition: now', existing: undefined, status: 'True', want: NOW },
  { name: 'same status: the old time is kept', existing: [{ type: 'Accepted', status: 'True', lastTransitionTime: OLD }], status: 'True', want: OLD },
  { name: 'status flips: now', existing: [{ type: 'Accepted', status: 'False', lastTransitionTime: OLD }], status: 'True', want: NOW },
  { name: 'other types do not count', existing: [{ type: 'Programmed', status: 'True', lastTransitionTime: OLD }], status: 'True', want: NOW },
] as const;
for (const c of transitions) {
  test(`lastTransitionTime: ${c.name}`, () => {
    const [out] = toApiConditions([condition('Accepted', c.status, 'Accepted', 'ok', 2)], c.existing, NOW, undefined);
    assert.equal(out?.lastTransitionTime, c.want);
    assert.equal(out?.observedGeneration, 2);
  });
}

test('conditions without a generation take the object\'s; bad reasons and huge messages are made valid', () => {
  const [out] = toApiConditions([condition('X', 'True', 'not camel case!', 'm'.repeat(40_000), undefined)], undefined, NOW, 7);
  assert.equal(out?.observedGeneration, 7);
  assert.equal(out?.reason, 'Unknown');
  assert.equal(out?.message.length, 32_768);
});

const merges = [
  { name: 'replaces in place, keeps others', existing: [{ type: 'A', v: 1 }, { type: 'Theirs' }, { type: 'B', v: 1 }], set: ['B', 'A'], remove: [], want: ['A2', 'Theirs', 'B2'] },
  { name: 'appends new types', existing: [{ type: 'Theirs' }], set: ['A'], remove: [], want: ['Theirs', 'A2'] },
  { name: 'removes types no longer asserted', existing: [{ type: 'A' }, { type: 'Gone' }, { type: 'Theirs' }], set: ['A'], remove: ['Gone'], want: ['A2', 'Theirs'] },
  { name: 'from nothing', existing: undefined, set: ['A'], remove: [], want: ['A2'] },
];
for (const c of merges) {
  test(`mergeConditionList: ${c.name}`, () => {
    const set = c.set.map((type) => ({ type, status: 'True', reason: 'R', message: '2', lastTransitionTime: NOW }));
    const out = mergeConditionList(c.existing, set, c.remove) as Array<{ type: string; message?: string }>;
    assert.deepEqual(out.map((x) => `${x.type}${x.message ?? ''}`), c.want);
  });
}

const equal = [
  { name: 'key order does not matter', a: { x: 1, y: { b: 2, a: [1, { c: 3 }] } }, b: { y: { a: [1, { c: 3 }], b: 2 }, x: 1 }, same: true },
  { name: 'array order does', a: [1, 2], b: [2, 1], same: false },
  { name: 'undefined members are absent', a: { x: 1, y: undefined }, b: { x: 1 }, same: true },
  { name: 'values differ', a: { x: 1 }, b: { x: '1' }, same: false },
];
for (const c of equal) test(`sameJson: ${c.name}`, () => assert.equal(sameJson(c.a, c.b), c.same));
