// Path normalization cases from Istio's normalization table: what each mode does, and what is rejected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizePath, type PathNormalization } from './path-normalize.js';

const cases: ReadonlyArray<{ mode: PathNormalization; in: string; out: string | undefined }> = [
  { mode: 'BASE', in: '/a/b', out: '/a/b' },
  { mode: 'BASE', in: '/a/./b', out: '/a/b' },
  { mode: 'BASE', in: '/a/../b', out: '/b' },
  { mode: 'BASE', in: '/../../b', out: '/b' },
  { mode: 'BASE', in: '/a/..', out: '/' },
  { mode: 'BASE', in: '/a/.', out: '/a/' },
  { mode: 'BASE', in: '/a/%2e%2e/b', out: '/b' },
  { mode: 'BASE', in: '/a/%2E/b', out: '/a/b' },
  { mode: 'BASE', in: '/%61dmin', out: '/admin' },
  { mode: 'BASE', in: '/%7Euser/%2D%5F%30', out: '/~user/-_0' },
  { mode: 'BASE', in: '/a%2fb', out: '/a%2fb' },
  { mode: 'BASE', in: '/a%20b', out: '/a%20b' },
  { mode: 'BASE', in: '/a\\b\\..\\c', out: '/a/c' },
  { mode: 'BASE', in: '/a//b', out: '/a//b' },
  { mode: 'BASE', in: '/x%00y', out: undefined },
  { mode: 'BASE', in: '/a/../b?q=/../x&y=%61', out: '/b?q=/../x&y=%61' },
  { mode: 'BASE', in: '/a?q=1#frag', out: '/a?q=1' },
  { mode: 'BASE', in: '/..a/.b/...', out: '/..a/.b/...' },
  { mode: 'DEFAULT', in: '/a/../b', out: '/b' },
  { mode: 'NONE', in: '/a/../b', out: '/a/../b' },
  { mode: 'MERGE_SLASHES', in: '//a///b/../c', out: '/a/c' },
  { mode: 'DECODE_AND_MERGE_SLASHES', in: '/a%2F%2fb%5Cc', out: '/a/b/c' },
  { mode: 'DECODE_AND_MERGE_SLASHES', in: '/a%2f..%2fadmin', out: '/admin' },
];

for (const c of cases) {
  test(`${c.mode}: ${JSON.stringify(c.in)} → ${c.out === undefined ? '400' : JSON.stringify(c.out)}`, () => {
    assert.equal(normalizePath(c.in, c.mode), c.out);
  });
}
