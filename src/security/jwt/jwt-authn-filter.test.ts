// Tests for the JWT filter's decisions on a request: Istio's requirement across several issuers, the status
// Envoy reports when every provider fails, and what a verified token changes in the request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { jwtRule } from '../../config/model/request-authentication.js';
import type { LocalReply } from '../../errors/local-reply.js';
import { HeaderList } from '../../http/header-list.js';
import type { HttpExchange, RequestAuth } from '../../proxy/http-exchange.js';
import { aggregate, JwtAuthnFilter } from './jwt-authn-filter.js';
import { compileProvider } from './jwt-provider.js';
import type { JwtStatus } from './jwt-status.js';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');
const JWKS = JSON.stringify({ keys: [{ kty: 'oct', k: SECRET.toString('base64url'), alg: 'HS256' }] });

const aggregateCases: ReadonlyArray<{ statuses: JwtStatus[]; final: JwtStatus }> = [
  { statuses: ['JwtMissed', 'JwtMissed'], final: 'JwtMissed' },
  { statuses: ['JwtUnknownIssuer', 'JwtMissed'], final: 'JwtUnknownIssuer' },
  { statuses: ['JwtMissed', 'JwtUnknownIssuer'], final: 'JwtUnknownIssuer' },
  { statuses: ['JwtExpired', 'JwtUnknownIssuer', 'JwtExpired'], final: 'JwtExpired' },
  { statuses: ['JwtUnknownIssuer', 'JwtVerificationFail'], final: 'JwtVerificationFail' },
  { statuses: ['JwtExpired', 'JwtVerificationFail'], final: 'JwtVerificationFail' },
];

for (const c of aggregateCases) {
  test(`RequiresAny aggregation of ${c.statuses.join(', ')} → ${c.final}`, () => {
    assert.equal(aggregate(c.statuses), c.final);
  });
}

interface FakeExchange {
  method: string;
  path: string;
  requestHeaders: HeaderList;
  requestAuth: RequestAuth | undefined;
}

function exchange(fields: string[], path = '/', method = 'GET'): FakeExchange {
  return { method, path, requestHeaders: new HeaderList(['host', 'svc.example', ...fields]), requestAuth: undefined };
}

function filter(rules: ReadonlyArray<Record<string, unknown>>): JwtAuthnFilter {
  const providers = rules.map((r, i) => compileProvider(jwtRule.parse({ jwks: JWKS, ...r }), `test jwtRules[${i}]`));
  return new JwtAuthnFilter(providers, { resolver: undefined, now: () => 1_700_000_000_000, verifiedTokenCacheSize: 100 });
}

async function run(f: JwtAuthnFilter, ex: FakeExchange): Promise<LocalReply | undefined> {
  return f.onRequestHeaders(ex as unknown as HttpExchange);
}

const token = (claims: Record<string, unknown>): Promise<string> => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(SECRET);

test('no token: no promise, no identity, request untouched', () => {
  const ex = exchange(['x-other', '1']);
  assert.equal(filter([{ issuer: 'a' }]).onRequestHeaders(ex as unknown as HttpExchange), undefined);
  assert.equal(ex.requestAuth, undefined);
  assert.equal(ex.requestHeaders.modified, false);
});

test('several issuers sharing the default location: the token of either verifies', async () => {
  const f = filter([{ issuer: 'a' }, { issuer: 'b' }]);
  for (const iss of ['a', 'b']) {
    const ex = exchange(['authorization', `Bearer ${await token({ iss, sub: 's' })}`]);
    assert.equal(await run(f, ex), undefined);
    assert.equal(ex.requestAuth?.principal, `${iss}/s`);
    assert.equal(ex.requestHeaders.get('authorization'), undefined);
  }
  const denied = await run(f, exchange(['authorization', `Bearer ${await token({ iss: 'c', sub: 's' })}`]));
  assert.equal(denied?.status, 401);
  assert.equal(denied?.body, 'Jwt issuer is not configured');
});

test('one issuer: tokens at both default locations must both verify (Envoy checks the parameter first)', async () => {
  const f = filter([{ issuer: 'a' }]);
  const good = await token({ iss: 'a', sub: 'header' });
  const other = await token({ iss: 'a', sub: 'param' });
  const both = exchange(['authorization', `Bearer ${good}`], `/x?access_token=${other}`);
  assert.equal(await run(f, both), undefined);
  assert.equal(both.requestAuth?.principal, 'a/header', 'the last token verified (the header) names the principal');
  assert.equal(both.path, '/x');
  const bad = await run(f, exchange(['authorization', `Bearer ${good}`], '/x?access_token=garbage'));
  assert.equal(bad?.body, 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections');
});

test('denial reply: status, body, challenge and details', async () => {
  const f = filter([{ issuer: 'a', audiences: ['api'] }]);
  const reply = await run(f, exchange(['authorization', `Bearer ${await token({ iss: 'a', aud: 'web' })}`], '/path?q=1'));
  assert.deepEqual(reply, {
    status: 403,
    body: 'Audiences in Jwt are not allowed',
    flag: undefined,
    details: 'jwt_authn_access_denied{Audiences_in_Jwt_are_not_allowed}',
    headers: ['www-authenticate', 'Bearer realm="http://svc.example/path", error="invalid_token"'],
  });
});

test('remote keys without a resolver (compiled offline) fail closed', async () => {
  const f = new JwtAuthnFilter([compileProvider(jwtRule.parse({ issuer: 'a', jwksUri: 'http://127.0.0.1:1/jwks' }), 'x')], { resolver: undefined, now: Date.now, verifiedTokenCacheSize: 100 });
  const reply = await run(f, exchange(['authorization', `Bearer ${await token({ iss: 'a' })}`]));
  assert.equal(reply?.status, 401);
  assert.equal(reply?.body, 'Jwks remote fetch is failed');
});

test('an inline JWKS without usable keys rejects every token with its status', async () => {
  const f = new JwtAuthnFilter([compileProvider(jwtRule.parse({ issuer: 'a', jwks: '{"keys":[]}' }), 'x')], { resolver: undefined, now: Date.now, verifiedTokenCacheSize: 100 });
  const reply = await run(f, exchange(['authorization', `Bearer ${await token({ iss: 'a' })}`]));
  assert.equal(reply?.body, "Jwks doesn't have any valid public key");
});

test('a remembered token is still checked for expiry, issuer and audience on every request', async () => {
  let now = 1_700_000_000_000;
  const providers = [compileProvider(jwtRule.parse({ issuer: 'a', audiences: ['api'], jwks: JWKS }), 'x')];
  const f = new JwtAuthnFilter(providers, { resolver: undefined, now: () => now, verifiedTokenCacheSize: 10 });
  const t = await token({ iss: 'a', sub: 's', aud: 'api', exp: now / 1000 + 10 });
  for (let i = 0; i < 3; i++) assert.equal(await run(f, exchange(['authorization', `Bearer ${t}`])), undefined);
  now += 120_000;
  assert.equal((await run(f, exchange(['authorization', `Bearer ${t}`])))?.body, 'Jwt is expired');
  // The same remembered token for a filter with other audiences is judged by that filter's rules.
  const g = new JwtAuthnFilter([compileProvider(jwtRule.parse({ issuer: 'a', audiences: ['other'], jwks: JWKS }), 'y')], { resolver: undefined, now: () => 1_700_000_000_000, verifiedTokenCacheSize: 10 });
  assert.equal((await run(g, exchange(['authorization', `Bearer ${t}`])))?.status, 403);
});
