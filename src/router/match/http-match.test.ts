// Tests for compileHttpRouteMatch: AND of all conditions, the constant-true default match, check order
// (cheap conditions short-circuit expensive ones) and error paths relative to the match.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { httpRouteMatch, type HTTPRouteMatch } from '../../config/model/http-route.js';
import { RequestView } from '../request-view.js';
import { compileHttpRouteMatch, MATCH_EVERYTHING, type CompiledHttpMatch } from './http-match.js';

const m = (input: unknown): HTTPRouteMatch => httpRouteMatch.parse(input);

function compiled(match: HTTPRouteMatch): CompiledHttpMatch {
  const r = compileHttpRouteMatch(match);
  assert.ok(r.ok, r.ok ? '' : `${r.path.join('.')}: ${r.message}`);
  return r.match;
}

/** Counts header and query reads, to check which conditions a test evaluated. */
class CountingView extends RequestView {
  headerReads = 0;
  queryReads = 0;
  override header(lowerName: string): string | undefined {
    this.headerReads++;
    return super.header(lowerName);
  }
  override queryParam(name: string): string | undefined {
    this.queryReads++;
    return super.queryParam(name);
  }
}

interface Req {
  method: string;
  target: string;
  headers: IncomingHttpHeaders;
}
const req = (method: string, target: string, headers: IncomingHttpHeaders = {}): Req => ({ method, target, headers });
const prod = { 'x-env': 'prod' };
const full = m({
  method: 'POST',
  path: { type: 'PathPrefix', value: '/api' },
  headers: [{ name: 'x-env', value: 'prod' }],
  queryParams: [{ name: 'v', value: '2' }],
});
interface Case {
  name: string;
  match: HTTPRouteMatch;
  req: Req;
  want: boolean;
  headerReads?: number;
  queryReads?: number;
}
const cases: Case[] = [
  { name: 'a request meeting every condition matches', match: full, req: req('POST', '/api/x?v=2', prod), want: true, headerReads: 1, queryReads: 1 },
  {
    name: 'a method mismatch fails before any header or query read',
    match: full,
    req: req('GET', '/api/x?v=2', prod),
    want: false,
    headerReads: 0,
    queryReads: 0,
  },
  {
    name: 'a path mismatch fails before any header or query read',
    match: full,
    req: req('POST', '/apix?v=2', prod),
    want: false,
    headerReads: 0,
    queryReads: 0,
  },
  {
    name: 'a header mismatch fails before the query is read',
    match: full,
    req: req('POST', '/api?v=2', { 'x-env': 'dev' }),
    want: false,
    headerReads: 1,
    queryReads: 0,
  },
  { name: 'a query mismatch fails the match', match: full, req: req('POST', '/api?v=3', prod), want: false },
  { name: 'method is compared exactly', match: m({ method: 'GET' }), req: req('get', '/'), want: false },
  { name: 'a method-only match matches any path', match: m({ method: 'GET' }), req: req('GET', '/any/path'), want: true },
  { name: 'an Exact path match ignores the query string', match: m({ path: { type: 'Exact', value: '/a' } }), req: req('GET', '/a?x=1'), want: true },
  {
    name: 'a header-only match does not read the query',
    match: m({ headers: [{ name: 'X-A', value: '1' }] }),
    req: req('GET', '/?a=1', { 'x-a': '1' }),
    want: true,
    queryReads: 0,
  },
  {
    name: 'a regex path is matched against the path only',
    match: m({ path: { type: 'RegularExpression', value: '/u/[0-9]+' } }),
    req: req('GET', '/u/12?x=y'),
    want: true,
  },
];
for (const c of cases) {
  test(`http match: ${c.name}`, () => {
    const view = new CountingView(c.req.method, c.req.target, c.req.headers);
    assert.equal(compiled(c.match).test(view), c.want);
    if (c.headerReads !== undefined) assert.equal(view.headerReads, c.headerReads, 'header reads');
    if (c.queryReads !== undefined) assert.equal(view.queryReads, c.queryReads, 'query reads');
  });
}

const untouchable = new Proxy(
  {},
  {
    get(): never {
      throw new Error('the request must not be read');
    },
  },
) as RequestView;

const trivial: { name: string; match: HTTPRouteMatch }[] = [
  { name: 'the default match {}', match: m({}) },
  { name: 'an explicit PathPrefix "/"', match: m({ path: { type: 'PathPrefix', value: '/' } }) },
  { name: 'PathPrefix "/" with empty header and query lists', match: m({ path: { value: '/' }, headers: [], queryParams: [] }) },
];
for (const c of trivial) {
  test(`http match: ${c.name} compiles to a constant-true test that reads nothing`, () => {
    const match = compiled(c.match);
    assert.equal(match, MATCH_EVERYTHING);
    assert.equal(match.method, undefined);
    assert.equal(match.test(untouchable), true);
  });
}

test('http match: the method is exposed on the compiled match', () => {
  assert.equal(compiled(m({ method: 'DELETE', path: { value: '/x' } })).method, 'DELETE');
});

const errors: { name: string; match: HTTPRouteMatch; path: (string | number)[]; message: RegExp }[] = [
  {
    name: 'a relative path value is reported at path.value',
    match: m({ path: { type: 'PathPrefix', value: 'api' } }),
    path: ['path', 'value'],
    message: /path value must be an absolute path starting with "\/"/,
  },
  {
    name: 'a path value with "//" is reported at path.value',
    match: m({ path: { type: 'Exact', value: '/a//b' } }),
    path: ['path', 'value'],
    message: /"\/\/"/,
  },
  {
    name: 'a bad path regex is reported at path.value',
    match: m({ path: { type: 'RegularExpression', value: '(?<=x)y' } }),
    path: ['path', 'value'],
    message: /lookbehind.*RE2/,
  },
  {
    name: 'a bad header regex is reported at headers[i].value',
    match: m({ headers: [{ name: 'a', value: 'x' }, { name: 'b', type: 'RegularExpression', value: '(' }] }),
    path: ['headers', 1, 'value'],
    message: /invalid regular expression/,
  },
  {
    name: 'a pseudo-header is reported at headers[i].name',
    match: { ...m({}), headers: [{ type: 'Exact', name: ':authority', value: 'x' }] },
    path: ['headers', 0, 'name'],
    message: /pseudo-header/,
  },
  {
    name: 'a bad query regex is reported at queryParams[i].value',
    match: m({ queryParams: [{ name: 'a', type: 'RegularExpression', value: '(a)\\1' }] }),
    path: ['queryParams', 0, 'value'],
    message: /backreference/,
  },
];
for (const c of errors) {
  test(`http match validation: ${c.name}`, () => {
    const r = compileHttpRouteMatch(c.match);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.deepEqual(r.path, c.path);
      assert.match(r.message, c.message);
    }
  });
}
