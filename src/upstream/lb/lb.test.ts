// Consistent-hash tables (ring hash, Maglev) and hash-key extraction: balance, stability when a host leaves, keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hash32 } from './hash.js';
import { cookieValue, hashKeyOf, queryValue } from './hash-key.js';
import type { HashInput, HashTable } from './lb-policy.js';
import { buildMaglev, isPrime, maglevLookup } from './maglev.js';
import { buildRing, ringLookup } from './ring-hash.js';

const hosts = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80'];
const tables = [
  // The same points per host before and after (Envoy scales replicas to minimumRingSize / hosts): no other key moves.
  { name: 'ring hash', build: (keys: string[]) => buildRing(keys, 300 * keys.length), lookup: ringLookup, maxMoved: 0 },
  // Maglev refills the whole table, so a few keys of remaining hosts move (the paper's "minimal disruption").
  { name: 'maglev', build: (keys: string[]) => buildMaglev(keys, 65537), lookup: maglevLookup, maxMoved: 400 },
];

for (const t of tables) {
  test(`${t.name}: keys spread over every host within a generous tolerance`, () => {
    const table = t.build(hosts);
    const counts = new Array<number>(hosts.length).fill(0);
    for (let i = 0; i < 8000; i++) counts[t.lookup(table, hash32(`key-${i}`))]! += 1;
    for (const c of counts) assert.ok(c > 1000 && c < 3000, `share ${c} of 8000 over 4 hosts`);
  });

  test(`${t.name}: removing a host moves only (mostly) the keys it owned`, () => {
    const before: HashTable = t.build(hosts);
    const after: HashTable = t.build(hosts.slice(0, 3));
    let moved = 0;
    let owned = 0;
    for (let i = 0; i < 4000; i++) {
      const h = hash32(`key-${i}`);
      const a = t.lookup(before, h);
      const b = t.lookup(after, h);
      if (a === 3) owned++;
      else if (a !== b) moved++;
    }
    assert.ok(owned > 0);
    assert.ok(moved <= t.maxMoved, `${moved} keys of hosts that stayed moved`);
  });

  test(`${t.name}: an empty host set finds nothing`, () => {
    assert.equal(t.lookup(t.build([]), 12345), -1);
  });
}

test('isPrime', () => {
  assert.deepEqual([1, 2, 9, 65537, 65536].map(isPrime), [false, true, false, true, false]);
});

const input = (headers: Record<string, string>, path: string, sourceIp: string): HashInput => ({
  headers: { get: (n: string) => headers[n.toLowerCase()] }, path, sourceIp,
});

const keyCases = [
  { name: 'header', source: { from: 'header', name: 'x-user' } as const, in: input({ 'x-user': 'alice' }, '/', '1.2.3.4'), want: 'alice' },
  { name: 'missing header', source: { from: 'header', name: 'x-user' } as const, in: input({}, '/', '1.2.3.4'), want: undefined },
  { name: 'cookie', source: { from: 'cookie', name: 'sid' } as const, in: input({ cookie: 'a=1; sid="abc"; b=2' }, '/', ''), want: 'abc' },
  { name: 'query', source: { from: 'query', name: 'u' } as const, in: input({}, '/p?x=1&u=bob#f', ''), want: 'bob' },
  { name: 'query absent', source: { from: 'query', name: 'u' } as const, in: input({}, '/p?uu=1', ''), want: undefined },
  { name: 'source ip', source: { from: 'source-ip' } as const, in: input({}, '/', '10.1.1.1'), want: '10.1.1.1' },
];
for (const c of keyCases) {
  test(`hash key from ${c.name}`, () => assert.equal(hashKeyOf(c.source, c.in), c.want));
}

test('cookieValue and queryValue edge cases', () => {
  assert.equal(cookieValue('sidx=1; sid=2', 'sid'), '2');
  assert.equal(cookieValue(undefined, 'sid'), undefined);
  assert.equal(queryValue('/p?flag', 'flag'), '');
  assert.equal(queryValue('/p', 'flag'), undefined);
});

test('cookie generation: only for a ttl cookie the request lacks; Envoy\'s Set-Cookie layout', async () => {
  const { cookieToGenerate, withSetCookie } = await import('./hash-cookie.js');
  const table = { algorithm: 'ring-hash' as const, points: new Uint32Array(0), owners: new Uint32Array(0) };
  const lb = { kind: 'hash' as const, table, key: { from: 'cookie' as const, name: 'sid', generate: { ttlSeconds: 60, path: '/app', attributes: [{ name: 'Secure', value: undefined }] } } };
  const hdrs = (cookie: string | undefined): { get(n: string): string | undefined } => ({ get: (n: string) => (n === 'cookie' ? cookie : undefined) });
  const conn = (port: number): { remoteAddress: string; remotePort: number; listenerKey: string } => ({ remoteAddress: '10.0.0.1', remotePort: port, listenerKey: 'vip:80' });
  const g = cookieToGenerate(lb, hdrs('a=1'), conn(5555));
  assert.match(g?.setCookie ?? '', /^sid="[0-9a-f]{16}"; Max-Age=60; Path=\/app; Secure; HttpOnly$/);
  assert.equal(cookieToGenerate(lb, hdrs('a=1'), conn(5555))?.value, g?.value, 'the same connection gets the same cookie');
  assert.notEqual(cookieToGenerate(lb, hdrs(undefined), conn(5556))?.value, g?.value);
  assert.equal(cookieToGenerate(lb, hdrs('sid=x'), conn(5555)), undefined);
  assert.equal(cookieToGenerate({ ...lb, key: { from: 'cookie', name: 'sid' } }, hdrs(undefined), conn(1)), undefined);
  assert.deepEqual(withSetCookie({ 'set-cookie': 'u=1' }, 'sid=2')['set-cookie'], ['u=1', 'sid=2']);
  assert.equal(hashKeyOf({ from: 'cookie', name: 'sid' }, { ...input({}, '/', ''), generatedCookie: 'gen' }), 'gen');
});
