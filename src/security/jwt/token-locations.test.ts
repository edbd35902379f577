// Tests for token locations: Envoy's extraction order and defaults, prefixes, repeated values, and token
// removal from headers, query parameters and cookies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeaderList } from '../../http/header-list.js';
import { removeToken, ruleLocations, type TokenLocation, tokensAt } from './token-locations.js';

const rule = (r: Partial<{ fromHeaders: { name: string; prefix: string }[]; fromParams: string[]; fromCookies: string[] }>) => ({
  fromHeaders: r.fromHeaders ?? [],
  fromParams: r.fromParams ?? [],
  fromCookies: r.fromCookies ?? [],
});

test('no location configured: Authorization "Bearer " then access_token', () => {
  assert.deepEqual(ruleLocations(rule({})).map((l) => l.id), ['header authorization "Bearer "', 'param access_token']);
});

test('configured locations replace the defaults; headers, params, cookies each sorted (Envoy map order)', () => {
  const locs = ruleLocations(rule({ fromHeaders: [{ name: 'X-Z', prefix: '' }, { name: 'x-a', prefix: 'T ' }], fromParams: ['b', 'a'], fromCookies: ['s'] }));
  assert.deepEqual(locs.map((l) => l.id), ['header x-a "T "', 'header x-z ""', 'param a', 'param b', 'cookie s']);
});

test('cookies alone also replace the defaults', () => {
  assert.deepEqual(ruleLocations(rule({ fromCookies: ['c'] })).map((l) => l.id), ['cookie c']);
});

const header = (name: string, prefix: string): TokenLocation => ({ kind: 'header', id: name, name, prefix });
const param: TokenLocation = { kind: 'param', id: 'p', name: 'tok' };
const cookie: TokenLocation = { kind: 'cookie', id: 'c', name: 'session' };

interface ExtractCase {
  readonly name: string;
  readonly loc: TokenLocation;
  readonly fields?: string[];
  readonly path?: string;
  readonly tokens: string[] | undefined;
}

const extractCases: ReadonlyArray<ExtractCase> = [
  { name: 'bearer token', loc: header('authorization', 'Bearer '), fields: ['Authorization', 'Bearer a.b.c'], tokens: ['a.b.c'] },
  { name: 'prefix is case-sensitive: "bearer " is not a location', loc: header('authorization', 'Bearer '), fields: ['authorization', 'bearer a.b.c'], tokens: undefined },
  { name: 'text after the token is not part of it', loc: header('authorization', 'Bearer '), fields: ['authorization', 'Bearer a.b.c, other'], tokens: ['a.b.c'] },
  { name: 'empty after the prefix: the whole value (fails to parse later)', loc: header('authorization', 'Bearer '), fields: ['authorization', 'Bearer '], tokens: ['Bearer '] },
  { name: 'no prefix: the whole value', loc: header('x-jwt', ''), fields: ['X-JWT', 'whole value'], tokens: ['whole value'] },
  { name: 'every repeated header is a token', loc: header('authorization', 'Bearer '), fields: ['authorization', 'Bearer a.b.c', 'authorization', 'Bearer d.e.f'], tokens: ['a.b.c', 'd.e.f'] },
  { name: 'parameter, percent-decoded', loc: param, path: '/x?a=1&tok=a%2Eb.c', tokens: ['a.b.c'] },
  { name: 'repeated parameter', loc: param, path: '/x?tok=1&tok=2', tokens: ['1', '2'] },
  { name: 'no query', loc: param, path: '/x', tokens: undefined },
  { name: 'parameter name must match exactly', loc: param, path: '/x?token=1&xtok=2', tokens: undefined },
  { name: 'malformed escapes kept as written', loc: param, path: '/x?tok=%zz', tokens: ['%zz'] },
  { name: 'cookie among others, quotes stripped', loc: cookie, fields: ['cookie', 'a=1; session="t.o.k"; b=2'], tokens: ['t.o.k'] },
  { name: 'cookie in a second Cookie header', loc: cookie, fields: ['cookie', 'a=1', 'Cookie', 'session=x.y.z'], tokens: ['x.y.z'] },
  { name: 'cookie name is a prefix of another', loc: cookie, fields: ['cookie', 'sessionid=1'], tokens: undefined },
];

for (const c of extractCases) {
  test(`extract: ${c.name}`, () => {
    assert.deepEqual(tokensAt(c.loc, new HeaderList([...(c.fields ?? [])]), c.path ?? '/'), c.tokens);
  });
}

interface RemoveCase {
  readonly name: string;
  readonly loc: TokenLocation;
  readonly fields: string[];
  readonly path: string;
  readonly afterFields: string[];
  readonly afterPath: string;
}

const removeCases: ReadonlyArray<RemoveCase> = [
  { name: 'header: every value removed', loc: header('authorization', 'Bearer '), fields: ['Authorization', 'Bearer x', 'x-other', '1', 'authorization', 'Bearer y'], path: '/', afterFields: ['x-other', '1'], afterPath: '/' },
  { name: 'param: only that parameter, others keep their order', loc: param, fields: [], path: '/p?a=1&tok=x&b=2&tok=y', afterFields: [], afterPath: '/p?a=1&b=2' },
  { name: 'param: the last one leaves no "?"', loc: param, fields: [], path: '/p?tok=x', afterFields: [], afterPath: '/p' },
  { name: 'cookie: removed from each Cookie header, empty headers dropped', loc: cookie, fields: ['cookie', 'a=1; session=x', 'cookie', 'session=y'], path: '/', afterFields: ['cookie', 'a=1'], afterPath: '/' },
];

for (const c of removeCases) {
  test(`remove: ${c.name}`, () => {
    const headers = new HeaderList([...c.fields]);
    assert.equal(removeToken(c.loc, headers, c.path), c.afterPath);
    assert.deepEqual(headers.fields, c.afterFields);
  });
}
