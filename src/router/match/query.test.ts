// Tests for query parameter matching: exact case-sensitive names, first value of repeated params,
// first-wins duplicates in config, decoding, AND semantics and regex values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryParamMatch, type QueryParamMatch } from '../../config/model/http-route.js';
import { RequestView } from '../request-view.js';
import { compileQueryParamMatches, queryParamsMatch } from './query.js';

const q = (name: string, value: string, type: QueryParamMatch['type'] = 'Exact'): QueryParamMatch =>
  queryParamMatch.parse({ name, value, type });

const cases: { name: string; match: QueryParamMatch[]; yes: string[]; no: string[] }[] = [
  { name: 'Exact matches the parameter value', match: [q('v', '2')], yes: ['/?v=2', '/?a=1&v=2'], no: ['/?v=3', '/', '/?v'] },
  { name: 'parameter names are case-sensitive', match: [q('TEST', 'v2')], yes: ['/?TEST=v2'], no: ['/?test=v2', '/?Test=v2'] },
  { name: 'values are case-sensitive', match: [q('v', 'abc')], yes: ['/?v=abc'], no: ['/?v=ABC'] },
  { name: 'a repeated parameter is matched on its first value', match: [q('v', '1')], yes: ['/?v=1&v=2'], no: ['/?v=2&v=1'] },
  {
    name: 'of entries with the same name only the first is considered',
    match: [q('v', '1'), q('v', '2')],
    yes: ['/?v=1'],
    no: ['/?v=2'],
  },
  { name: 'all parameter conditions are ANDed', match: [q('a', '1'), q('b', '2')], yes: ['/?b=2&a=1'], no: ['/?a=1', '/?b=2', '/?a=1&b=1'] },
  { name: 'values are form-decoded before comparison', match: [q('q', 'hello world')], yes: ['/?q=hello+world', '/?q=hello%20world'], no: ['/?q=hello'] },
  { name: 'names are form-decoded before comparison', match: [q('a b', 'x')], yes: ['/?a+b=x', '/?a%20b=x'], no: ['/?ab=x'] },
  { name: 'a parameter without "=" has the value ""', match: [q('debug', '')], yes: ['/?debug', '/?debug='], no: ['/?debug=1', '/'] },
  { name: 'the fragment is not part of the query', match: [q('a', '1')], yes: ['/?a=1#x'], no: ['/#?a=1'] },
  { name: 'RegularExpression must match the whole value', match: [q('id', '[0-9]+', 'RegularExpression')], yes: ['/?id=123'], no: ['/?id=12a', '/?id='] },
  { name: 'absolute-form targets carry their query', match: [q('a', '1')], yes: ['http://h/p?a=1'], no: ['http://h/p?a=2'] },
];
for (const c of cases) {
  test(`queryParams: ${c.name}`, () => {
    const r = compileQueryParamMatches(c.match);
    assert.ok(r.ok, r.ok ? '' : r.message);
    for (const t of c.yes) assert.ok(queryParamsMatch(r.conditions, new RequestView('GET', t, {})), `should match ${t}`);
    for (const t of c.no) assert.ok(!queryParamsMatch(r.conditions, new RequestView('GET', t, {})), `should not match ${t}`);
  });
}

test('queryParams validation: an invalid regex value is reported at the entry value', () => {
  const r = compileQueryParamMatches([q('a', '1'), q('a', '(?=x)'), q('b', '(a)\\1', 'RegularExpression')]);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.deepEqual(r.path, ['queryParams', 2, 'value']);
    assert.match(r.message, /backreference/);
  }
});
