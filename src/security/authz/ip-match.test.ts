import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cachedAddress, parseAddress, parseCidr } from './ip-match.js';

const addresses: ReadonlyArray<{ readonly text: string; readonly in8: boolean | undefined }> = [
  { text: '10.1.2.3', in8: true },
  { text: '11.0.0.1', in8: false },
  { text: '::ffff:10.9.9.9', in8: true },
  { text: 'fd00::1', in8: false },
  { text: 'not-an-ip', in8: undefined },
  { text: '', in8: undefined },
];

for (const c of addresses) {
  test(`cachedAddress(${JSON.stringify(c.text)}) reads as parseAddress, twice`, () => {
    const range = parseCidr('10.0.0.0/8');
    assert.ok(range !== undefined);
    const first = cachedAddress(c.text);
    const second = cachedAddress(c.text);
    assert.deepEqual(first, parseAddress(c.text));
    assert.equal(second, first); // the same parsed value, not a new parse
    assert.equal(first === undefined ? undefined : range.contains(first), c.in8);
  });
}
