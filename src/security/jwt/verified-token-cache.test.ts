// Tests for the verified-token cache: LRU order, capacity, and that oversized tokens are not held.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJwks, type KeySet } from './jwks.js';
import { parseJwt, type ParsedJwt } from './jwt-token.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

const keys = parseJwks('{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}') as KeySet;
const jwt = (sub: string): ParsedJwt =>
  parseJwt(`${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.c2ln`) as ParsedJwt;

test('the least recently used token is dropped at capacity', () => {
  const cache = new VerifiedTokenCache(2);
  const [a, b, c] = [jwt('a'), jwt('b'), jwt('c')];
  cache.remember(a, keys);
  cache.remember(b, keys);
  assert.equal(cache.get(a.token)?.jwt, a); // a is now the most recent
  cache.remember(c, keys);
  assert.equal(cache.size, 2);
  assert.equal(cache.get(b.token), undefined);
  assert.equal(cache.get(a.token)?.keys, keys);
  assert.equal(cache.get(c.token)?.jwt, c);
});

test('capacity 0 and oversized tokens are never held', () => {
  const off = new VerifiedTokenCache(0);
  off.remember(jwt('a'), keys);
  assert.equal(off.size, 0);
  const cache = new VerifiedTokenCache(10);
  cache.remember(jwt('x'.repeat(10_000)), keys);
  assert.equal(cache.size, 0);
});
