// Tests for what a verified token hands on: request identity (principal, audiences, presenter, split
// scopes) and claim header values formatted as Envoy formats them, never injecting header syntax.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimHeaderValue, claimPath, headerValue, requestAuthOf } from './claims.js';
import { parseJwt, type ParsedJwt } from './jwt-token.js';

const jwtOf = (payload: Record<string, unknown>): ParsedJwt =>
  parseJwt(`${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`) as ParsedJwt;

test('identity: principal iss/sub, audiences, presenter', () => {
  const auth = requestAuthOf(jwtOf({ iss: 'https://accounts.example.com', sub: 'u-1', aud: ['a', 'b'], azp: 'web' }), ['scope']);
  assert.equal(auth.principal, 'https://accounts.example.com/u-1');
  assert.deepEqual(auth.audiences, ['a', 'b']);
  assert.equal(auth.presenter, 'web');
});

test('identity: space-delimited claims become word lists; lists and other claims are left alone', () => {
  const payload = { iss: 'i', sub: 's', scope: ' read  write ', permission: ['x y'], custom: 'a b', roles: 'admin ops' };
  const auth = requestAuthOf(jwtOf(payload), ['scope', 'permission', 'roles']);
  assert.deepEqual(auth.claims['scope'], ['read', 'write']);
  assert.deepEqual(auth.claims['permission'], ['x y']);
  assert.equal(auth.claims['custom'], 'a b');
  assert.deepEqual(auth.claims['roles'], ['admin', 'ops']);
});

interface ClaimCase {
  readonly name: string;
  readonly claim: string;
  readonly payload: Record<string, unknown>;
  readonly value: string | undefined;
}

const claimCases: ReadonlyArray<ClaimCase> = [
  { name: 'string', claim: 'sub', payload: { sub: 'alice' }, value: 'alice' },
  { name: 'nested', claim: 'a.b.c', payload: { a: { b: { c: 'deep' } } }, value: 'deep' },
  { name: 'integer', claim: 'n', payload: { n: 42 }, value: '42' },
  { name: 'big integer', claim: 'n', payload: { n: 9007199254740993 }, value: '9007199254740992' },
  { name: 'fraction', claim: 'n', payload: { n: 1.5 }, value: '1.500000' },
  { name: 'negative', claim: 'n', payload: { n: -3 }, value: '-3.000000' },
  { name: 'boolean', claim: 'b', payload: { b: false }, value: 'false' },
  { name: 'list: base64 of its JSON', claim: 'l', payload: { l: ['x', 1] }, value: Buffer.from('["x",1]').toString('base64') },
  { name: 'object: base64 of its JSON', claim: 'o', payload: { o: { k: 'v' } }, value: Buffer.from('{"k":"v"}').toString('base64') },
  { name: 'absent', claim: 'missing', payload: {}, value: undefined },
  { name: 'empty string', claim: 's', payload: { s: '' }, value: undefined },
  { name: 'null', claim: 's', payload: { s: null }, value: undefined },
  { name: 'path through a non-object', claim: 's.x', payload: { s: 'str' }, value: undefined },
  { name: 'inherited property names are not claims', claim: 'constructor', payload: {}, value: undefined },
  { name: 'CR LF in a claim: not a header', claim: 's', payload: { s: 'a\r\nx-admin: true' }, value: undefined },
  { name: 'non-ASCII: UTF-8 bytes', claim: 's', payload: { s: 'José' }, value: Buffer.from('José', 'utf8').toString('latin1') },
];

for (const c of claimCases) {
  test(`claim header: ${c.name}`, () => {
    assert.equal(claimHeaderValue(jwtOf(c.payload).payload, claimPath(c.claim)), c.value);
  });
}

test('headerValue keeps tabs and printable text, refuses control characters', () => {
  assert.equal(headerValue('a\tb'), 'a\tb');
  assert.equal(headerValue('a\u0000b'), undefined);
  assert.equal(headerValue('a\u007fb'), undefined);
});
