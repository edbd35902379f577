// Tests for HTTPRoute precedence: one row per criterion of the Gateway API spec (winner vs loser, both
// directions), rankOf's counting, and sorting a shuffled table into the expected order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpRouteMatch } from '../config/model/http-route.js';
import { compareMatchRank, rankOf, sortByPrecedence, type MatchRank } from './precedence.js';

interface Spec {
  match?: unknown;
  created?: number;
  key?: string;
  seq?: number;
  rule?: number;
  index?: number;
}
const OLD = Date.parse('2024-01-01T00:00:00Z');
const NEW = Date.parse('2025-01-01T00:00:00Z');

function rank(s: Spec): MatchRank {
  return rankOf(
    httpRouteMatch.parse(s.match ?? {}),
    { created: s.created ?? OLD, seq: s.seq ?? 0, key: s.key ?? 'default/route' },
    s.rule ?? 0,
    s.index ?? 0,
  );
}
const prefix = (value: string, extra: object = {}): unknown => ({ path: { type: 'PathPrefix', value }, ...extra });
const exact = (value: string, extra: object = {}): unknown => ({ path: { type: 'Exact', value }, ...extra });
const regex = (value: string): unknown => ({ path: { type: 'RegularExpression', value } });
const headers = (...names: string[]): { name: string; value: string }[] => names.map((name) => ({ name, value: 'x' }));
const query = (...names: string[]): { name: string; value: string }[] => names.map((name) => ({ name, value: 'x' }));

const pairs: { name: string; winner: Spec; loser: Spec }[] = [
  { name: 'an Exact path beats a PathPrefix of the same value', winner: { match: exact('/foo') }, loser: { match: prefix('/foo') } },
  { name: 'an Exact path beats a longer PathPrefix', winner: { match: exact('/a') }, loser: { match: prefix('/a/very/long/prefix') } },
  { name: 'the longer PathPrefix wins', winner: { match: prefix('/foo/bar') }, loser: { match: prefix('/foo') } },
  { name: 'any PathPrefix beats the default prefix "/"', winner: { match: prefix('/a') }, loser: { match: prefix('/', { headers: headers('a', 'b') }) } },
  { name: 'prefix length beats a method match', winner: { match: prefix('/foo/bar') }, loser: { match: prefix('/foo', { method: 'GET' }) } },
  { name: 'a trailing "/" does not count toward prefix length', winner: { match: prefix('/foo', { method: 'GET' }) }, loser: { match: prefix('/foo/') } },
  { name: 'a prefix one character longer beats a trailing "/"', winner: { match: prefix('/fooo') }, loser: { match: prefix('/foo/') } },
  { name: 'a method match beats header matches', winner: { match: { method: 'GET' } }, loser: { match: { headers: headers('a', 'b', 'c') } } },
  { name: 'a method match beats query param matches', winner: { match: { method: 'POST' } }, loser: { match: { queryParams: query('a', 'b') } } },
  { name: 'more header matches win', winner: { match: { headers: headers('a', 'b') } }, loser: { match: { headers: headers('a') } } },
  { name: 'one header match beats more query param matches', winner: { match: { headers: headers('a') } }, loser: { match: { queryParams: query('a', 'b', 'c') } } },
  {
    name: 'header names equal up to case count once',
    // Counted raw, the loser's 3 entries would beat 2; counted distinct it is a tie, settled by age.
    winner: { match: { headers: headers('a', 'b') }, created: OLD - 1 },
    loser: { match: { headers: headers('a', 'A', 'c') } },
  },
  { name: 'more query param matches win', winner: { match: { queryParams: query('a', 'b') } }, loser: { match: { queryParams: query('a') } } },
  { name: 'a RegularExpression path ranks below PathPrefix "/" (Istio)', winner: { match: prefix('/') }, loser: { match: regex('/foo/bar/.*') } },
  { name: 'a RegularExpression path ranks below Exact (Istio)', winner: { match: exact('/') }, loser: { match: regex('/') } },
  { name: 'between regexes the longer value wins (Istio)', winner: { match: regex('/foo/.*') }, loser: { match: regex('/.*') } },
  { name: 'on a tie the older route wins', winner: { created: OLD, key: 'z/z' }, loser: { created: NEW, key: 'a/a' } },
  { name: 'a route with a known creation time beats one without', winner: { created: NEW }, loser: { created: Infinity } },
  { name: 'specificity beats route age', winner: { match: exact('/x'), created: NEW }, loser: { match: prefix('/x'), created: OLD } },
  { name: 'equal age: "{namespace}/{name}" alphabetical order', winner: { key: 'default/route-a' }, loser: { key: 'default/route-b' } },
  { name: 'equal age: namespace sorts before name', winner: { key: 'a/zzz' }, loser: { key: 'b/aaa' } },
  { name: 'the name tie-break comes before source order', winner: { key: 'a/a', seq: 9 }, loser: { key: 'b/b', seq: 1 } },
  { name: 'same route key: earlier source order wins', winner: { key: 'ns/r', seq: 1 }, loser: { key: 'ns/r', seq: 2 } },
  { name: 'within a route the first rule wins', winner: { rule: 0, index: 3 }, loser: { rule: 1, index: 0 } },
  { name: 'within a rule the first match wins', winner: { rule: 2, index: 0 }, loser: { rule: 2, index: 1 } },
];
for (const c of pairs) {
  test(`precedence: ${c.name}`, () => {
    const w = rank(c.winner);
    const l = rank(c.loser);
    assert.ok(compareMatchRank(w, l) < 0, 'winner must sort first');
    assert.ok(compareMatchRank(l, w) > 0, 'comparison must be antisymmetric');
    assert.equal(compareMatchRank(w, w), 0);
  });
}

const ranks: { name: string; spec: Spec; want: Partial<MatchRank> }[] = [
  { name: 'PathPrefix "/" has length 0', spec: { match: {} }, want: { pathType: 'PathPrefix', pathLength: 0 } },
  { name: 'PathPrefix length excludes the trailing "/"', spec: { match: prefix('/abc/') }, want: { pathLength: 4 } },
  { name: 'Exact length is the value length', spec: { match: exact('/abc/') }, want: { pathType: 'Exact', pathLength: 5 } },
  { name: 'header count is distinct case-insensitive names', spec: { match: { headers: headers('A', 'a', 'b') } }, want: { headerCount: 2 } },
  { name: 'query count is distinct exact names', spec: { match: { queryParams: query('a', 'A', 'a') } }, want: { queryCount: 2 } },
  { name: 'route identity and indexes are copied', spec: { key: 'ns/r', seq: 4, rule: 2, index: 1, created: NEW }, want: { routeKey: 'ns/r', routeSeq: 4, ruleIndex: 2, matchIndex: 1, routeCreated: NEW } },
  { name: 'an unparsable creation time ranks as unknown', spec: { created: Number.NaN }, want: { routeCreated: Infinity } },
];
for (const c of ranks) {
  test(`rankOf: ${c.name}`, () => {
    const r = rank(c.spec);
    for (const [k, v] of Object.entries(c.want)) assert.equal(r[k as keyof MatchRank], v, k);
  });
}

test('sortByPrecedence: a shuffled route table sorts into spec order, stably and without mutating', () => {
  const expected: { id: string; spec: Spec }[] = [
    { id: 'exact-long', spec: { match: exact('/api/v1/users') } },
    { id: 'exact-short', spec: { match: exact('/api') } },
    { id: 'prefix-long', spec: { match: prefix('/api/v1') } },
    { id: 'prefix-method', spec: { match: prefix('/api', { method: 'GET' }) } },
    { id: 'prefix-2-headers', spec: { match: prefix('/api', { headers: headers('a', 'b') }) } },
    { id: 'prefix-1-header-query', spec: { match: prefix('/api', { headers: headers('a'), queryParams: query('q') }) } },
    { id: 'prefix-1-header', spec: { match: prefix('/api', { headers: headers('a') }) } },
    { id: 'prefix-old-route', spec: { match: prefix('/api'), created: OLD } },
    { id: 'prefix-new-route-a', spec: { match: prefix('/api'), created: NEW, key: 'a/route' } },
    { id: 'prefix-new-route-b-rule0', spec: { match: prefix('/api'), created: NEW, key: 'b/route', rule: 0 } },
    { id: 'prefix-new-route-b-rule1', spec: { match: prefix('/api'), created: NEW, key: 'b/route', rule: 1 } },
    { id: 'catch-all', spec: { match: {} } },
    { id: 'regex', spec: { match: regex('/api/.*') } },
  ];
  const entries = expected.map((e) => ({ id: e.id, rank: rank(e.spec) }));
  // A fixed-seed Fisher–Yates shuffle, repeated with several seeds.
  for (let seed = 1; seed <= 20; seed++) {
    const shuffled = [...entries];
    let s = seed;
    for (let i = shuffled.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) % 2147483648;
      const j = s % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const before = shuffled.map((e) => e.id);
    const sorted = sortByPrecedence(shuffled);
    assert.deepEqual(sorted.map((e) => e.id), expected.map((e) => e.id), `seed ${seed}`);
    assert.deepEqual(shuffled.map((e) => e.id), before, 'input must not be mutated');
    assert.notEqual(sorted, shuffled);
  }
});

test('sortByPrecedence: entries with equal ranks keep their input order', () => {
  const same = rank({});
  const entries = ['first', 'second', 'third'].map((id) => ({ id, rank: same }));
  assert.deepEqual(sortByPrecedence(entries).map((e) => e.id), ['first', 'second', 'third']);
});
