import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminExposure } from './admin-exposure.js';

const cases: ReadonlyArray<[host: string, loopback: boolean]> = [
  ['127.0.0.1', true], ['127.1.2.3', true], ['localhost', true], ['::1', true], ['[::1]', true], ['::ffff:127.0.0.1', true],
  ['0.0.0.0', false], ['::', false], ['', false], ['10.0.0.5', false], ['::ffff:10.0.0.5', false], ['example.com', false], ['128.0.0.1', false],
];

for (const [host, loopback] of cases) {
  test(`admin bound to ${JSON.stringify(host)}: ${loopback ? 'loopback, no warning' : 'exposed, warned'}`, () => {
    const e = adminExposure(host, `${host}:15000`);
    assert.equal(e.loopback, loopback);
    if (loopback) assert.equal(e.warning, undefined);
    else assert.match(e.warning ?? '', /NOT bound to loopback \(.*:15000\).*--admin-address/);
  });
}
