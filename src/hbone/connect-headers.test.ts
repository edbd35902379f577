import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAuthority } from './authority.js';
import { parseForwardedFor } from './forwarded.js';

const authorities: ReadonlyArray<[string | undefined, string | undefined]> = [
  ['10.0.0.5:8080', '10.0.0.5:8080'],
  ['[fd00::5]:443', '[fd00::5]:443'],
  ['127.0.0.1:0', undefined],
  ['127.0.0.1:65536', undefined],
  ['reviews.default.svc:9080', undefined],
  ['10.0.0.5', undefined],
  ['fd00::5:443', undefined],
  ['10.0.0.5:80x', undefined],
  ['10.0.0.5:+80', undefined],
  ['[fd00::5]443', undefined],
  ['', undefined],
  [undefined, undefined],
  [`10.0.0.5:${'1'.repeat(80)}`, undefined],
];
for (const [input, want] of authorities) {
  test(`authority ${JSON.stringify(input)}`, () => assert.equal(parseAuthority(input)?.key, want));
}

const forwarded: ReadonlyArray<[string | undefined, [string, number | undefined] | undefined]> = [
  ['for="10.1.2.3:41234";host=reviews.default.svc.cluster.local', ['10.1.2.3', 41234]],
  ['for=10.1.2.3', ['10.1.2.3', undefined]],
  ['For="[fd00::7]:555"', ['fd00::7', 555]],
  ['host=x;for="10.0.0.1:1", for=10.0.0.2', ['10.0.0.1', 1]],
  ['for="_hidden"', undefined],
  ['for=unknown', undefined],
  ['for="10.0.0.1:_port"', ['10.0.0.1', undefined]],
  ['host=x', undefined],
  [undefined, undefined],
];
for (const [input, want] of forwarded) {
  test(`forwarded ${JSON.stringify(input)}`, () => {
    const f = parseForwardedFor(input);
    assert.deepEqual(f === undefined ? undefined : [f.address, f.port], want);
  });
}
