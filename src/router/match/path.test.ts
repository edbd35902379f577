// Tests for path matching: the Gateway API Exact/PathPrefix examples, regex paths and value validation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PathMatch } from '../../config/model/http-route.js';
import { compilePathMatch, MATCH_ANY_PATH, validatePathValue } from './path.js';

const matching: { name: string; match: PathMatch; yes: string[]; no: string[] }[] = [
  {
    name: 'Exact /abc matches only /abc (spec: NOT /abc/, /Abc, or /abcd)',
    match: { type: 'Exact', value: '/abc' },
    yes: ['/abc'],
    no: ['/abc/', '/Abc', '/abcd', '/ab', '/abc/def', ''],
  },
  { name: 'Exact / matches only /', match: { type: 'Exact', value: '/' }, yes: ['/'], no: ['/a', ''] },
  {
    name: 'PathPrefix /abc matches /abc, /abc/ and /abc/def but not /abcd (spec example)',
    match: { type: 'PathPrefix', value: '/abc' },
    yes: ['/abc', '/abc/', '/abc/def', '/abc/def/ghi'],
    no: ['/abcd', '/ab', '/Abc', '/abc.html', '/x/abc', '/'],
  },
  {
    name: 'PathPrefix ignores a trailing "/" in the configured value',
    match: { type: 'PathPrefix', value: '/abc/' },
    yes: ['/abc', '/abc/', '/abc/def'],
    no: ['/abcd', '/ab'],
  },
  {
    name: 'PathPrefix compares whole elements of multi-segment prefixes',
    match: { type: 'PathPrefix', value: '/a/b' },
    yes: ['/a/b', '/a/b/', '/a/b/c'],
    no: ['/a/bc', '/a', '/a/', '/a/c/b'],
  },
  { name: 'PathPrefix / matches every path', match: { type: 'PathPrefix', value: '/' }, yes: ['/', '/a', '/a/b/c', '*', ''], no: [] },
  {
    name: 'RegularExpression must match the whole path',
    match: { type: 'RegularExpression', value: '/a.*' },
    yes: ['/a', '/ab/c'],
    no: ['x/ab', '/b/a'],
  },
  {
    name: 'RegularExpression is case-sensitive',
    match: { type: 'RegularExpression', value: '/api/v[0-9]+' },
    yes: ['/api/v2'],
    no: ['/API/v2', '/api/v2/x'],
  },
];
for (const c of matching) {
  test(`path: ${c.name}`, () => {
    const r = compilePathMatch(c.match);
    assert.ok(r.ok, r.ok ? '' : r.message);
    for (const p of c.yes) assert.ok(r.path.test(p), `${c.match.type} ${c.match.value} should match ${JSON.stringify(p)}`);
    for (const p of c.no) assert.ok(!r.path.test(p), `${c.match.type} ${c.match.value} should not match ${JSON.stringify(p)}`);
  });
}

test('path: PathPrefix / compiles to the shared match-any path', () => {
  const r = compilePathMatch({ type: 'PathPrefix', value: '/' });
  assert.ok(r.ok);
  assert.equal(r.path, MATCH_ANY_PATH);
});

const invalid: { name: string; match: PathMatch; message: RegExp }[] = [
  { name: 'Exact value must start with "/"', match: { type: 'Exact', value: 'abc' }, message: /absolute path starting with "\/"/ },
  { name: 'PathPrefix value must start with "/"', match: { type: 'PathPrefix', value: 'abc/' }, message: /absolute path starting with "\/"/ },
  { name: 'an empty value is not an absolute path', match: { type: 'PathPrefix', value: '' }, message: /absolute path/ },
  { name: 'value must not contain "//"', match: { type: 'PathPrefix', value: '/a//b' }, message: /"\/\/"/ },
  { name: 'value must not contain "/./"', match: { type: 'Exact', value: '/a/./b' }, message: /"\/\.\/"/ },
  { name: 'value must not contain "/../"', match: { type: 'Exact', value: '/a/../b' }, message: /"\/\.\.\/"/ },
  { name: 'value must not contain "%2f"', match: { type: 'PathPrefix', value: '/a%2fb' }, message: /%2f/ },
  { name: 'value must not contain "%2F"', match: { type: 'PathPrefix', value: '/a%2Fb' }, message: /%2F/ },
  { name: 'value must not contain "#"', match: { type: 'Exact', value: '/a#b' }, message: /"#"/ },
  { name: 'value must not end with "/.."', match: { type: 'Exact', value: '/a/..' }, message: /end with "\/\.\."/ },
  { name: 'value must not end with "/."', match: { type: 'PathPrefix', value: '/a/.' }, message: /end with "\/\."/ },
  { name: 'value must not contain "?" (a query never is part of the path)', match: { type: 'Exact', value: '/a?b=1' }, message: /may only contain/ },
  { name: 'value must not contain a space', match: { type: 'Exact', value: '/a b' }, message: /may only contain/ },
  { name: 'value must not contain a malformed escape', match: { type: 'Exact', value: '/a%zz' }, message: /may only contain/ },
  { name: 'a RegularExpression value is checked as a regex', match: { type: 'RegularExpression', value: '/a(?=b)' }, message: /RE2/ },
];
for (const c of invalid) {
  test(`path validation: ${c.name}`, () => {
    const r = compilePathMatch(c.match);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, c.message);
  });
}

const valid: { name: string; value: string }[] = [
  { name: 'percent-escapes other than %2f are allowed', value: '/a%20b' },
  { name: 'sub-delims, ":" and "@" are allowed', value: "/a:b@c!$&'()*+,;=" },
  { name: 'dots inside a segment are allowed', value: '/a..b/.well-known/c.' },
  { name: 'a trailing "/" is allowed', value: '/abc/' },
];
for (const c of valid) {
  test(`path validation: ${c.name}`, () => {
    assert.equal(validatePathValue(c.value), undefined);
  });
}

test('path validation: a RegularExpression value need not start with "/"', () => {
  assert.ok(compilePathMatch({ type: 'RegularExpression', value: '.*/foo' }).ok);
});
