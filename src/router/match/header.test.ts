// Tests for header matching: case-insensitive names, case-sensitive values, first-wins duplicates, AND
// semantics, regex full match and name validation.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { headerMatch, type HeaderMatch } from '../../config/model/http-route.js';
import { RequestView } from '../request-view.js';
import { compileHeaderMatches, headersMatch } from './header.js';

const h = (name: string, value: string, type: HeaderMatch['type'] = 'Exact'): HeaderMatch =>
  headerMatch.parse({ name, value, type });

const cases: { name: string; match: HeaderMatch[]; yes: IncomingHttpHeaders[]; no: IncomingHttpHeaders[] }[] = [
  {
    name: 'header names match case-insensitively',
    match: [h('X-Version', 'v1')],
    yes: [{ 'x-version': 'v1' }],
    no: [{ 'x-other': 'v1' }],
  },
  {
    name: 'Exact values are case-sensitive',
    match: [h('x-version', 'v1')],
    yes: [{ 'x-version': 'v1' }],
    no: [{ 'x-version': 'V1' }, { 'x-version': 'v1 ' }, { 'x-version': 'v10' }],
  },
  {
    name: 'an absent header never matches, even an empty Exact value',
    match: [h('x-flag', '')],
    yes: [{ 'x-flag': '' }],
    no: [{}],
  },
  {
    name: 'an absent header never matches a regex that accepts ""',
    match: [h('x-flag', '.*', 'RegularExpression')],
    yes: [{ 'x-flag': '' }, { 'x-flag': 'anything' }],
    no: [{}],
  },
  {
    name: 'all header conditions are ANDed',
    match: [h('a', '1'), h('b', '2')],
    yes: [{ a: '1', b: '2', c: '3' }],
    no: [{ a: '1' }, { b: '2' }, { a: '1', b: '3' }],
  },
  {
    name: 'of entries naming the same header case-insensitively only the first is considered',
    match: [h('X-Env', 'prod'), h('x-env', 'staging'), h('X-ENV', 'dev')],
    yes: [{ 'x-env': 'prod' }],
    no: [{ 'x-env': 'staging' }, { 'x-env': 'dev' }],
  },
  {
    name: 'RegularExpression values must match the whole header value',
    match: [h('user-agent', '.*Mobile.*', 'RegularExpression'), h('x-id', '[0-9]+', 'RegularExpression')],
    yes: [{ 'user-agent': 'Mozilla Mobile Safari', 'x-id': '42' }],
    no: [{ 'user-agent': 'Mozilla Mobile Safari', 'x-id': '42a' }, { 'user-agent': 'Desktop', 'x-id': '1' }],
  },
  {
    name: 'a repeated header is matched on its values joined with ","',
    match: [h('x-multi', 'a,b')],
    yes: [{ 'x-multi': ['a', 'b'] }],
    no: [{ 'x-multi': ['a'] }],
  },
  {
    name: 'a Host match also sees the HTTP/2 :authority',
    match: [h('Host', 'reviews.default.svc.cluster.local:9080')],
    yes: [{ ':authority': 'reviews.default.svc.cluster.local:9080' }, { host: 'reviews.default.svc.cluster.local:9080' }],
    no: [{ host: 'other' }],
  },
];
for (const c of cases) {
  test(`headers: ${c.name}`, () => {
    const r = compileHeaderMatches(c.match);
    assert.ok(r.ok, r.ok ? '' : r.message);
    for (const hs of c.yes) assert.ok(headersMatch(r.conditions, new RequestView('GET', '/', hs)), `should match ${JSON.stringify(hs)}`);
    for (const hs of c.no) assert.ok(!headersMatch(r.conditions, new RequestView('GET', '/', hs)), `should not match ${JSON.stringify(hs)}`);
  });
}

test('headers: duplicates are dropped and exact conditions come before regex ones', () => {
  const r = compileHeaderMatches([h('X-R', 'a.*', 'RegularExpression'), h('x-e', 'v'), h('x-r', 'ignored')]);
  assert.ok(r.ok);
  assert.deepEqual(
    r.conditions.map((c) => [c.name, c.exact, c.regex?.source]),
    [
      ['x-e', 'v', undefined],
      ['x-r', undefined, '^(?:a.*)$'],
    ],
  );
});

const invalid: { name: string; match: HeaderMatch[]; path: (string | number)[]; message: RegExp }[] = [
  {
    name: 'a pseudo-header name such as ":method" is rejected',
    match: [h('x', '1'), { type: 'Exact', name: ':method', value: 'GET' }],
    path: ['headers', 1, 'name'],
    message: /pseudo-header/,
  },
  { name: 'a name with a space is rejected', match: [{ type: 'Exact', name: 'x y', value: '1' }], path: ['headers', 0, 'name'], message: /not a valid HTTP header name/ },
  {
    name: 'an invalid regex value is reported at the entry value',
    match: [h('a', '1'), h('b', '(?!x).*', 'RegularExpression')],
    path: ['headers', 1, 'value'],
    message: /RE2/,
  },
];
for (const c of invalid) {
  test(`headers validation: ${c.name}`, () => {
    const r = compileHeaderMatches(c.match);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.deepEqual(r.path, c.path);
      assert.match(r.message, c.message);
    }
  });
}
