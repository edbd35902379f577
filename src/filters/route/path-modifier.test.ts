import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PathModifier } from './path-modifier.js';

// The ReplacePrefixMatch table of the Gateway API spec (HTTPPathModifier.replacePrefixMatch), plus query handling.
const prefixCases = [
  { path: '/foo/bar', prefix: '/foo', replace: '/xyz', want: '/xyz/bar' },
  { path: '/foo/bar', prefix: '/foo', replace: '/xyz/', want: '/xyz/bar' },
  { path: '/foo/bar', prefix: '/foo/', replace: '/xyz', want: '/xyz/bar' },
  { path: '/foo/bar', prefix: '/foo/', replace: '/xyz/', want: '/xyz/bar' },
  { path: '/foo', prefix: '/foo', replace: '/xyz', want: '/xyz' },
  { path: '/foo/', prefix: '/foo', replace: '/xyz', want: '/xyz/' },
  { path: '/foo/bar', prefix: '/foo', replace: '', want: '/bar' },
  { path: '/foo/', prefix: '/foo', replace: '', want: '/' },
  { path: '/foo', prefix: '/foo', replace: '', want: '/' },
  { path: '/foo/', prefix: '/foo', replace: '/', want: '/' },
  { path: '/foo', prefix: '/foo', replace: '/', want: '/' },
  { path: '/foo/bar?x=1&y=2', prefix: '/foo', replace: '/xyz', want: '/xyz/bar?x=1&y=2' },
  { path: '/anything/here', prefix: '/', replace: '/api', want: '/api/anything/here' },
  { path: '/', prefix: '/', replace: '/api', want: '/api/' },
  // A path the prefix does not match element-wise is left alone (a second rewrite after the first).
  { path: '/foobar', prefix: '/foo', replace: '/xyz', want: '/foobar' },
];

for (const c of prefixCases) {
  test(`ReplacePrefixMatch ${c.prefix} → '${c.replace}': ${c.path} becomes ${c.want}`, () => {
    assert.equal(PathModifier.prefixMatch(c.replace, c.prefix).apply(c.path), c.want);
  });
}

const fullCases = [
  { path: '/full/one/two', replace: '/one', want: '/one' },
  { path: '/full?q=1', replace: '/one', want: '/one?q=1' },
  { path: '/', replace: '/x/y/', want: '/x/y/' },
];

for (const c of fullCases) {
  test(`ReplaceFullPath '${c.replace}': ${c.path} becomes ${c.want}`, () => {
    assert.equal(PathModifier.fullPath(c.replace).apply(c.path), c.want);
  });
}
