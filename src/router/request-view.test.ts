// Tests for RequestView: request-target parsing (origin/absolute form, fragments), header access and
// lazy application/x-www-form-urlencoded query decoding.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { RequestView } from './request-view.js';

const targets: { name: string; raw: string; path: string; query: string }[] = [
  { name: 'origin-form path without query keeps the whole target', raw: '/a/b', path: '/a/b', query: '' },
  { name: 'origin-form path and query split at "?"', raw: '/a/b?x=1&y=2', path: '/a/b', query: 'x=1&y=2' },
  { name: 'fragment is dropped from the path', raw: '/a#frag', path: '/a', query: '' },
  { name: 'fragment is dropped from the query', raw: '/a?x=1#frag', path: '/a', query: 'x=1' },
  { name: 'a "?" inside the fragment does not start a query', raw: '/a#f?x=1', path: '/a', query: '' },
  { name: 'a bare "?" gives an empty query', raw: '/a?', path: '/a', query: '' },
  { name: 'a second "?" belongs to the query', raw: '/a?x=?&y', path: '/a', query: 'x=?&y' },
  { name: 'absolute-form target yields its path and query', raw: 'http://example.com:8080/x/y?z=1', path: '/x/y', query: 'z=1' },
  { name: 'absolute-form with upper-case scheme', raw: 'HTTP://example.com/x', path: '/x', query: '' },
  { name: 'absolute-form without a path has path "/"', raw: 'https://example.com', path: '/', query: '' },
  { name: 'absolute-form without a path keeps its query', raw: 'http://example.com?q=1#f', path: '/', query: 'q=1' },
  { name: 'a path that merely contains "://" is origin-form', raw: '/redirect/http://x/y', path: '/redirect/http://x/y', query: '' },
  { name: 'asterisk-form is kept as is', raw: '*', path: '*', query: '' },
  { name: 'authority-form (CONNECT) is kept as is', raw: 'example.com:443', path: 'example.com:443', query: '' },
  { name: 'percent-escapes in the path are not decoded', raw: '/a%2Fb?c', path: '/a%2Fb', query: 'c' },
];
for (const c of targets) {
  test(`RequestView: ${c.name}`, () => {
    const v = new RequestView('GET', c.raw, {});
    assert.equal(v.path, c.path);
    assert.equal(v.rawQuery, c.query);
    assert.equal(v.method, 'GET');
  });
}

const headers: IncomingHttpHeaders = {
  'x-one': 'v1',
  'set-cookie': ['a=1', 'b=2'],
  'x-empty': '',
  ':authority': 'svc.ns.svc.cluster.local:8080',
};
const headerCases: { name: string; lookup: string; headers: IncomingHttpHeaders; want: string | undefined }[] = [
  { name: 'a string header is returned as is', lookup: 'x-one', headers, want: 'v1' },
  { name: 'a string[] header is joined with ","', lookup: 'set-cookie', headers, want: 'a=1,b=2' },
  { name: 'an absent header is undefined', lookup: 'x-missing', headers, want: undefined },
  { name: 'an empty header value is "" (present), not undefined', lookup: 'x-empty', headers, want: '' },
  { name: 'host falls back to the HTTP/2 :authority', lookup: 'host', headers, want: 'svc.ns.svc.cluster.local:8080' },
  { name: 'host prefers the host header when both exist', lookup: 'host', headers: { host: 'h1', ':authority': 'h2' }, want: 'h1' },
];
for (const c of headerCases) {
  test(`RequestView.header: ${c.name}`, () => {
    assert.equal(new RequestView('GET', '/', c.headers).header(c.lookup), c.want);
  });
}

const queryCases: { name: string; query: string; param: string; want: string | undefined }[] = [
  { name: 'returns the value of a parameter', query: 'a=1&b=2', param: 'b', want: '2' },
  { name: 'returns the first value of a repeated parameter', query: 'a=1&a=2&a=3', param: 'a', want: '1' },
  { name: 'absent parameter is undefined', query: 'a=1', param: 'b', want: undefined },
  { name: 'names are case-sensitive', query: 'A=1', param: 'a', want: undefined },
  { name: 'a parameter without "=" has the value ""', query: 'flag&a=1', param: 'flag', want: '' },
  { name: 'a parameter with "=" and nothing after has the value ""', query: 'a=', param: 'a', want: '' },
  { name: 'only the first "=" separates name and value', query: 'a=b=c', param: 'a', want: 'b=c' },
  { name: 'empty pairs are skipped', query: '&&a=1&&', param: 'a', want: '1' },
  { name: '"+" decodes to a space', query: 'q=hello+world', param: 'q', want: 'hello world' },
  { name: '%20 decodes to a space', query: 'q=hello%20world', param: 'q', want: 'hello world' },
  { name: '%2B decodes to "+", not a space', query: 'q=a%2Bb', param: 'q', want: 'a+b' },
  { name: 'UTF-8 escapes decode to characters', query: 'q=caf%C3%A9', param: 'q', want: 'café' },
  { name: 'lower-case hex escapes decode', query: 'q=%e2%82%ac', param: 'q', want: '€' },
  { name: 'names are decoded before comparison', query: 'a%5Bb%5D=1', param: 'a[b]', want: '1' },
  { name: 'a malformed escape is kept literally', query: 'q=100%zz', param: 'q', want: '100%zz' },
  { name: 'a truncated escape at the end is kept literally', query: 'q=50%', param: 'q', want: '50%' },
  { name: 'a one-digit escape is kept literally', query: 'q=%4', param: 'q', want: '%4' },
  { name: 'a valid escape next to a malformed one still decodes', query: 'q=%41%g1', param: 'q', want: 'A%g1' },
  { name: 'invalid UTF-8 becomes U+FFFD instead of throwing', query: 'q=%FF', param: 'q', want: '\uFFFD' },
  { name: 'raw non-ASCII characters are kept', query: 'q=ü+%C3%BC', param: 'q', want: 'ü ü' },
  { name: 'an empty query has no parameters', query: '', param: 'a', want: undefined },
];
for (const c of queryCases) {
  test(`RequestView.queryParam: ${c.name}`, () => {
    const v = new RequestView('GET', `/p?${c.query}#frag`, {});
    assert.equal(v.queryParam(c.param), c.want);
    assert.equal(v.queryParam(c.param), c.want, 'a second lookup (cached parse) gives the same answer');
    // The WHATWG form decoder is the reference for every case.
    assert.equal(v.queryParam(c.param), new URLSearchParams(c.query).get(c.param) ?? undefined);
  });
}

test('RequestView: every instance has the same own-property shape, whatever the target', () => {
  const shapes = ['/', '/a?b', 'http://h/x', '*'].map((raw) => Object.keys(new RequestView('GET', raw, {})).join(','));
  assert.deepEqual(new Set(shapes).size, 1);
  assert.equal(shapes[0], 'method,path,rawQuery');
});

test('RequestView: a long query of pairs without "=" parses in linear time', () => {
  const raw = `/p?${'a&'.repeat(200_000)}z=1`;
  const start = process.hrtime.bigint();
  assert.equal(new RequestView('GET', raw, {}).queryParam('z'), '1');
  assert.ok(Number(process.hrtime.bigint() - start) / 1e6 < 2000, 'parsing took too long');
});
