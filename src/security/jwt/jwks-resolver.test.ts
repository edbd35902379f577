// Tests for the JWKS resolver against a real HTTP server on loopback: one fetch shared by concurrent
// requests, caching, timeouts, size and format limits, the refetch rate limit, unknown-kid refresh,
// OpenID discovery, background refresh and eviction.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { JwksResolver, type JwksResolverOptions, type KeysOutcome, type RemoteJwks } from './jwks-resolver.js';

type Mode = 'ok' | 'stall' | 'fail' | 'huge' | 'garbage' | 'no-keys';
let mode: Mode = 'ok';
let kid = 'k1';
let hits: Record<string, number> = {};
let server: http.Server;
let base = '';
const stalled: http.ServerResponse[] = [];

const JWK = (k: string): Record<string, string> => ({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA', kid: k });

before(async () => {
  server = http.createServer((req, res) => {
    const p = req.url ?? '/';
    hits[p] = (hits[p] ?? 0) + 1;
    if (mode === 'stall') {
      stalled.push(res);
      return;
    }
    if (mode === 'fail') return void res.writeHead(500).end();
    if (p === '/.well-known/openid-configuration') return void res.end(JSON.stringify({ jwks_uri: `${base}/keys` }));
    if (mode === 'huge') return void res.end(`{"keys":[${'"x",'.repeat(100_000)}"x"]}`);
    if (mode === 'garbage') return void res.end('<html>not json</html>');
    if (mode === 'no-keys') return void res.end('{"keys":[]}');
    res.end(JSON.stringify({ keys: [JWK(kid)] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const r of stalled) r.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  for (const r of stalled.splice(0)) r.destroy();
  mode = 'ok';
  kid = 'k1';
  hits = {};
});

const uri = (timeoutMs = 2000): RemoteJwks => ({ kind: 'uri', uri: `${base}/keys`, timeoutMs });

/** A resolver with a hand-driven clock for the rate limit. */
function resolver(options: Partial<JwksResolverOptions> = {}): { r: JwksResolver; clock: { ms: number } } {
  const clock = { ms: 1_000_000 };
  return { r: new JwksResolver({ now: () => clock.ms, ...options }), clock };
}

async function kids(outcome: KeysOutcome | Promise<KeysOutcome>): Promise<string> {
  const o = await outcome;
  return typeof o === 'string' ? o : [...o.kids].join(',');
}

test('first use fetches once for all concurrent requests; then keys come from the cache synchronously', async () => {
  const { r } = resolver();
  const all = await Promise.all([r.keys(uri()), r.keys(uri()), r.keys(uri())].map(kids));
  assert.deepEqual(all, ['k1', 'k1', 'k1']);
  assert.equal(hits['/keys'], 1);
  const cached = r.keys(uri());
  assert.ok(!(cached instanceof Promise), 'cached keys are returned without a promise');
  await r.close();
});

interface FailCase {
  readonly mode: Mode;
  readonly timeoutMs: number;
}

const failCases: ReadonlyArray<FailCase> = [
  { mode: 'fail', timeoutMs: 2000 },
  { mode: 'stall', timeoutMs: 150 },
  { mode: 'huge', timeoutMs: 2000 },
  { mode: 'garbage', timeoutMs: 2000 },
  { mode: 'no-keys', timeoutMs: 2000 },
];

for (const c of failCases) {
  test(`a JWKS that ${c.mode === 'stall' ? 'does not answer in time' : `answers "${c.mode}"`} fails closed, then is rate-limited`, async () => {
    const { r, clock } = resolver({ maxDocumentBytes: 64 * 1024 });
    mode = c.mode;
    const started = Date.now();
    assert.equal(await kids(r.keys(uri(c.timeoutMs))), 'JwksFetchFail');
    assert.ok(Date.now() - started < 5000, 'the timeout bounds the wait');
    const count = hits['/keys'];
    // Within the rate-limit window no new fetch is made: the answer is immediate.
    assert.equal(r.keys(uri(c.timeoutMs)), 'JwksFetchFail');
    assert.equal(hits['/keys'], count);
    // Once the window has passed and the server is healthy, keys arrive.
    mode = 'ok';
    clock.ms += 6000;
    assert.equal(await kids(r.keys(uri())), 'k1');
    await r.close();
  });
}

test('a failed refresh keeps the keys already held', async () => {
  const { r, clock } = resolver();
  assert.equal(await kids(r.keys(uri())), 'k1');
  mode = 'garbage';
  clock.ms += 6000;
  const refreshed = r.refreshForUnknownKid(uri());
  assert.ok(refreshed !== undefined);
  assert.equal(await kids(refreshed), 'k1');
  assert.equal(await kids(r.keys(uri())), 'k1');
  await r.close();
});

test('unknown kid: one refetch picks up rotated keys; more within the window are refused', async () => {
  const { r, clock } = resolver();
  assert.equal(await kids(r.keys(uri())), 'k1');
  kid = 'k2';
  assert.equal(r.refreshForUnknownKid(uri()), undefined, 'the first fetch was just now: rate-limited');
  clock.ms += 6000;
  const refreshed = r.refreshForUnknownKid(uri());
  assert.ok(refreshed !== undefined);
  assert.equal(await kids(refreshed), 'k2');
  assert.equal(r.refreshForUnknownKid(uri()), undefined);
  assert.equal(hits['/keys'], 2);
  await r.close();
});

test('OpenID discovery: the issuer\'s openid-configuration names the JWKS', async () => {
  const { r } = resolver();
  const source: RemoteJwks = { kind: 'discovery', issuer: `${base}/`, timeoutMs: 2000 };
  assert.equal(await kids(r.keys(source)), 'k1');
  assert.equal(hits['/.well-known/openid-configuration'], 1);
  assert.equal(hits['/keys'], 1);
  await r.close();
});

test('OpenID discovery needs an http(s) issuer', async () => {
  const { r } = resolver();
  assert.equal(await kids(r.keys({ kind: 'discovery', issuer: 'testing@secure.istio.io', timeoutMs: 2000 })), 'JwksFetchFail');
  assert.deepEqual(hits, {});
  await r.close();
});

test('background refresh follows key changes; an unused JWKS is evicted', async () => {
  const r = new JwksResolver({ refreshIntervalMs: 30, retryIntervalMs: 30, evictAfterMs: 60_000 });
  assert.equal(await kids(r.keys(uri())), 'k1');
  kid = 'k3';
  const deadline = Date.now() + 5000;
  while ((await kids(r.keys(uri()))) !== 'k3' && Date.now() < deadline) await new Promise((s) => setTimeout(s, 20));
  assert.equal(await kids(r.keys(uri())), 'k3');
  await r.close();

  const evicting = new JwksResolver({ refreshIntervalMs: 20, evictAfterMs: 0 });
  await evicting.keys(uri());
  assert.equal(evicting.size, 1);
  const until = Date.now() + 5000;
  while (evicting.size > 0 && Date.now() < until) await new Promise((s) => setTimeout(s, 20));
  assert.equal(evicting.size, 0);
  await evicting.close();
});
