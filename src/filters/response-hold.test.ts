// ResponseHold: chunks and the end are kept in order up to the limit; one byte past it calls the overflow
// handler once and drops what was held.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseHold } from './response-hold.js';

const cases = [
  { name: 'under the limit: everything kept in order, end recorded', chunks: ['ab', 'cd'], end: true, limit: 4, overflows: 0, kept: 'abcd' },
  { name: 'exactly at the limit is still held', chunks: ['abcd'], end: false, limit: 4, overflows: 0, kept: 'abcd' },
  { name: 'past the limit: overflow once, nothing kept', chunks: ['abc', 'de', 'f'], end: true, limit: 4, overflows: 1, kept: '' },
];

for (const c of cases) {
  test(c.name, () => {
    let overflows = 0;
    const hold = new ResponseHold(() => overflows++, c.limit);
    for (const chunk of c.chunks) hold.push(Buffer.from(chunk));
    if (c.end) hold.end();
    assert.equal(overflows, c.overflows);
    assert.equal(Buffer.concat(hold.chunks).toString(), c.kept);
    assert.equal(hold.ended, c.end);
  });
}
