import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeaderList } from '../../http/header-list.js';
import { HeaderEdits } from './header-edits.js';

const cases = [
  { name: 'set replaces every value, keeping the position', in: ['A', '1', 'b', '2', 'a', '3'], m: { set: [{ name: 'a', value: 'x' }] }, out: ['A', 'x', 'b', '2'] },
  { name: 'set adds an absent header', in: ['b', '2'], m: { set: [{ name: 'X-New', value: 'v' }] }, out: ['b', '2', 'X-New', 'v'] },
  { name: 'add appends a field line, existing values kept', in: ['x-add', 'one'], m: { add: [{ name: 'X-Add', value: 'two' }] }, out: ['x-add', 'one', 'X-Add', 'two'] },
  { name: 'remove is case-insensitive and removes every line', in: ['X-Gone', '1', 'keep', '2', 'x-gone', '3'], m: { remove: ['x-GONE'] }, out: ['keep', '2'] },
];

for (const c of cases) {
  test(`HTTPHeaderFilter: ${c.name}`, () => {
    const list = new HeaderList([...c.in]);
    new HeaderEdits({ set: [], add: [], remove: [], ...c.m }).apply(list);
    assert.deepEqual(list.fields, c.out);
  });
}

test('names() lists every header a modifier touches, lower-cased', () => {
  assert.deepEqual(HeaderEdits.names({ set: [{ name: 'A', value: '' }], add: [{ name: 'b', value: '' }], remove: ['C'] }), ['a', 'b', 'c']);
});
