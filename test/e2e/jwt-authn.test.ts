// End to end: RequestAuthentication at the waypoint with Istio's own test tokens and JWKS, and tokens signed
// for the test against a real JWKS server on loopback: every token location, claim and payload headers,
// token removal upstream, exact 401/403 replies, clock skew, audiences, several issuers, CORS preflights.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EchoReply } from '../harness/backends.js';
import { type Backend, startBackend } from '../harness/backends.js';
import { request, type Response } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import {
  istioToken, type JwksServer, type JwtMesh, nowSeconds, requestAuthentication, sign, type SigningKey, signingKey, startJwksServer, startJwtMesh, yamlString, ISTIO_JWKS,
} from './jwt-fixtures.js';

const vip = vipRange();
const A = vip(1); // Istio JWKS inline, issuer test-issuer-1, default locations
const B = vip(2); // remote JWKS, custom locations, audiences, claim and payload headers
const C = vip(3); // forwardOriginalToken: true
const D = vip(4); // two issuers, Istio's multi-provider requirement
const ISSUER = 'https://issuer.example.test';

let backend: Backend;
let jwks: JwksServer;
let mesh: JwtMesh;
let rsa: SigningKey;
let ec: SigningKey;
let other: SigningKey;

before(async () => {
  backend = await startBackend('echo');
  rsa = await signingKey('RS256', 'rsa-1');
  ec = await signingKey('ES256', 'ec-1');
  other = await signingKey('RS256', 'rsa-1'); // same kid, different key: a forged signature
  jwks = await startJwksServer([rsa.jwk, ec.jwk]);
  const ep = [`127.0.0.1:${backend.port}`];
  mesh = await startJwtMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'svc-a', vip: A, endpoints: ep }),
      serviceYaml({ name: 'svc-b', vip: B, endpoints: ep }),
      serviceYaml({ name: 'svc-c', vip: C, endpoints: ep }),
      serviceYaml({ name: 'svc-d', vip: D, endpoints: ep }),
    ].join('\n'),
    'authn.yaml': [
      requestAuthentication('a', 'svc-a', `    - issuer: test-issuer-1@istio.io
      jwks: ${yamlString(ISTIO_JWKS)}
`),
      requestAuthentication('b', 'svc-b', `    - issuer: ${ISSUER}
      jwksUri: ${jwks.jwksUri}
      audiences: [svc-b, https://api.example.test/]
      fromHeaders:
        - name: x-jwt-assertion
        - name: X-Auth
          prefix: "Token "
      fromParams: [token]
      fromCookies: [session]
      outputPayloadToHeader: x-jwt-payload
      outputClaimToHeaders:
        - {header: x-jwt-sub, claim: sub}
        - {header: x-jwt-team, claim: org.team}
        - {header: x-jwt-level, claim: level}
        - {header: x-jwt-admin, claim: admin}
        - {header: x-jwt-groups, claim: groups}
`),
      requestAuthentication('c', 'svc-c', `    - issuer: test-issuer-1@istio.io
      jwks: ${yamlString(ISTIO_JWKS)}
      forwardOriginalToken: true
`),
      requestAuthentication('d', 'svc-d', `    - issuer: test-issuer-1@istio.io
      jwks: ${yamlString(ISTIO_JWKS)}
    - issuer: test-issuer-2@istio.io
      jwks: ${yamlString(ISTIO_JWKS)}
      fromHeaders: [{name: x-token-2}]
`),
    ].join(''),
  });
});

after(async () => {
  await mesh?.close();
  await jwks?.close();
  await backend?.close();
});

const echoOf = (res: Response): EchoReply => JSON.parse(res.body) as EchoReply;
const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

function lastRecord(): (typeof mesh.records)[number] {
  const r = mesh.records.at(-1);
  assert.ok(r !== undefined, 'an exchange was recorded');
  return r;
}

async function expectDenied(res: Response, status: 401 | 403, text: string, realm: string): Promise<void> {
  assert.equal(res.status, status, res.body);
  assert.equal(res.body, text);
  assert.equal(res.headers['content-type'], 'text/plain');
  assert.equal(res.headers['www-authenticate'], `Bearer realm="${realm}", error="invalid_token"`);
  assert.equal(lastRecord().details, `jwt_authn_access_denied{${text.replaceAll(' ', '_')}}`);
  assert.equal(backend.hits() > 0, true);
}

interface IstioCase {
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly path?: string;
  readonly status: number;
  readonly body?: string;
  readonly principal?: string;
}

const istioCases: ReadonlyArray<IstioCase> = [
  { name: 'no token: allowed without identity', headers: {}, status: 200 },
  { name: 'valid Istio token in Authorization: Bearer', headers: bearer(istioToken('TokenIssuer1')), status: 200, principal: 'test-issuer-1@istio.io/sub-1' },
  { name: 'valid token in the default access_token parameter', headers: {}, path: `/p?x=1&access_token=${istioToken('TokenIssuer1')}`, status: 200, principal: 'test-issuer-1@istio.io/sub-1' },
  { name: 'expired token', headers: bearer(istioToken('TokenExpired')), status: 401, body: 'Jwt is expired' },
  { name: 'token of an issuer not configured', headers: bearer(istioToken('TokenIssuer2')), status: 401, body: 'Jwt issuer is not configured' },
  { name: 'not a JWT', headers: bearer('not-a-jwt'), status: 401, body: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections' },
  { name: 'a prefix other than "Bearer " is not a token location', headers: { authorization: `Basic ${istioToken('TokenExpired')}` }, status: 200 },
  { name: 'signature changed', headers: bearer(`${istioToken('TokenIssuer1').slice(0, -6)}AAAAAA`), status: 401, body: 'Jwt verification fails' },
  { name: 'payload swapped under a valid signature', headers: bearer(swapPayload(istioToken('TokenIssuer1'), istioToken('TokenIssuer1WithAud'))), status: 401, body: 'Jwt verification fails' },
];

for (const c of istioCases) {
  test(`Istio token: ${c.name} → ${c.status}`, async () => {
    const res = await request(A, 80, { path: c.path ?? '/p', headers: c.headers });
    assert.equal(res.status, c.status, res.body);
    if (c.status === 200) {
      const echo = echoOf(res);
      assert.equal(lastRecord().auth?.principal, c.principal);
      if (c.principal !== undefined) {
        // The verified token does not travel upstream (forwardOriginalToken defaults to false)...
        assert.equal(echo.headers['authorization'], undefined);
        assert.doesNotMatch(echo.path, /access_token/);
        // ...while the rest of the request does.
        if (c.path !== undefined) assert.equal(echo.path, '/p?x=1');
      }
    } else {
      await expectDenied(res, 401, c.body ?? '', `http://${A}/p`);
    }
  });
}

test('request identity: audiences, presenter, claims with space-delimited scope split for matching', async () => {
  for (const [token, check] of [
    ['TokenIssuer1WithAudList', (a: NonNullable<ReturnType<typeof lastRecord>['auth']>) => assert.deepEqual(a.audiences, ['foo', 'buzz'])],
    ['TokenIssuer1WithAzp', (a: NonNullable<ReturnType<typeof lastRecord>['auth']>) => assert.equal(a.presenter, 'bar')],
    ['TokenIssuer1WithNestedClaims1', (a: NonNullable<ReturnType<typeof lastRecord>['auth']>) => assert.deepEqual((a.claims['nested'] as Record<string, unknown>)['key1'], ['valueA', 'valueB'])],
  ] as const) {
    const res = await request(A, 80, { headers: bearer(istioToken(token)) });
    assert.equal(res.status, 200, token);
    const auth = lastRecord().auth;
    assert.ok(auth !== undefined, token);
    check(auth);
  }
  // Issuer 2 tokens carry `scope`/`permission` as strings: the identity holds their words.
  const scoped = await sign(rsa, { iss: ISSUER, sub: 'u1', aud: 'svc-b', scope: 'read  write', permission: 'admin', exp: nowSeconds() + 600 });
  assert.equal((await request(B, 80, { headers: { 'x-jwt-assertion': scoped } })).status, 200);
  assert.deepEqual(lastRecord().auth?.claims['scope'], ['read', 'write']);
  assert.deepEqual(lastRecord().auth?.claims['permission'], ['admin']);
});

test('remote JWKS: claims and payload copied to headers, forged identity headers stripped, token removed', async () => {
  const claims = { iss: ISSUER, sub: 'alice', aud: ['other', 'svc-b'], org: { team: 'payments' }, level: 3, admin: true, groups: ['g1', 'g2'], exp: nowSeconds() + 600 };
  const token = await sign(rsa, claims);
  const res = await request(B, 80, { path: '/claims', headers: { 'x-jwt-assertion': token, 'x-jwt-sub': 'mallory', 'x-jwt-team': 'forged' } });
  assert.equal(res.status, 200, res.body);
  const h = echoOf(res).headers;
  assert.equal(h['x-jwt-sub'], 'alice');
  assert.equal(h['x-jwt-team'], 'payments');
  assert.equal(h['x-jwt-level'], '3');
  assert.equal(h['x-jwt-admin'], 'true');
  assert.equal(h['x-jwt-groups'], Buffer.from('["g1","g2"]').toString('base64'));
  assert.equal(h['x-jwt-payload'], token.split('.')[1]);
  assert.equal(h['x-jwt-assertion'], undefined);
  assert.equal(lastRecord().auth?.principal, `${ISSUER}/alice`);

  // Without a token, identity headers a client sends are still removed: they cannot be forged.
  const bare = echoOf(await request(B, 80, { headers: { 'x-jwt-sub': 'mallory', 'x-jwt-payload': 'e30' } })).headers;
  assert.equal(bare['x-jwt-sub'], undefined);
  assert.equal(bare['x-jwt-payload'], undefined);
});

interface LocationCase {
  readonly name: string;
  readonly place: (token: string) => { path?: string; headers?: Record<string, string> };
  /** What the backend must (not) see afterwards. */
  readonly upstream: (echo: EchoReply, token: string) => void;
}

const locationCases: ReadonlyArray<LocationCase> = [
  {
    name: 'header without prefix',
    place: (t) => ({ headers: { 'x-jwt-assertion': t } }),
    upstream: (e) => assert.equal(e.headers['x-jwt-assertion'], undefined),
  },
  {
    name: 'header with a custom prefix',
    place: (t) => ({ headers: { 'x-auth': `Token ${t}` } }),
    upstream: (e) => assert.equal(e.headers['x-auth'], undefined),
  },
  {
    name: 'query parameter',
    place: (t) => ({ path: `/q?a=1&token=${t}&b=2` }),
    upstream: (e) => assert.equal(e.path, '/q?a=1&b=2'),
  },
  {
    name: 'cookie',
    place: (t) => ({ headers: { cookie: `theme=dark; session=${t}; lang=en` } }),
    upstream: (e) => assert.equal(e.headers['cookie'], 'theme=dark; lang=en'),
  },
];

for (const c of locationCases) {
  test(`token location: ${c.name} (ES256, remote JWKS) is verified and removed upstream`, async () => {
    const token = await sign(ec, { iss: ISSUER, sub: 'bob', aud: 'svc-b', exp: nowSeconds() + 600 });
    const placed = c.place(token);
    const res = await request(B, 80, { path: placed.path ?? '/', headers: placed.headers ?? {} });
    assert.equal(res.status, 200, res.body);
    c.upstream(echoOf(res), token);
    assert.equal(lastRecord().auth?.principal, `${ISSUER}/bob`);
    // The same location with a bad token is refused: each location is really checked.
    const bad = c.place(await sign(other, { iss: ISSUER, sub: 'bob', aud: 'svc-b', exp: nowSeconds() + 600 }));
    const denied = await request(B, 80, { path: bad.path ?? '/', headers: bad.headers ?? {} });
    assert.equal(denied.status, 401);
    assert.equal(denied.body, 'Jwt verification fails');
  });
}

test('a rule with its own locations ignores Authorization: Bearer (the default applies only without any)', async () => {
  const res = await request(B, 80, { headers: bearer('garbage') });
  assert.equal(res.status, 200);
  assert.equal(echoOf(res).headers['authorization'], 'Bearer garbage');
  assert.equal(lastRecord().auth, undefined);
});

interface ClaimCase {
  readonly name: string;
  readonly claims: () => Record<string, unknown>;
  readonly status: number;
  readonly body?: string;
}

const claimCases: ReadonlyArray<ClaimCase> = [
  { name: 'audience matches after dropping scheme and trailing slash', claims: () => ({ aud: 'api.example.test' }), status: 200 },
  { name: 'audience https://svc-b/ matches svc-b', claims: () => ({ aud: 'https://svc-b/' }), status: 200 },
  { name: 'wrong audience', claims: () => ({ aud: 'svc-x' }), status: 403, body: 'Audiences in Jwt are not allowed' },
  { name: 'no audience while audiences are required', claims: () => ({}), status: 403, body: 'Audiences in Jwt are not allowed' },
  { name: 'expired 30s ago: inside the 60s clock skew', claims: () => ({ aud: 'svc-b', exp: nowSeconds() - 30 }), status: 200 },
  { name: 'expired 5 minutes ago', claims: () => ({ aud: 'svc-b', exp: nowSeconds() - 300 }), status: 401, body: 'Jwt is expired' },
  { name: 'not valid before an hour from now', claims: () => ({ aud: 'svc-b', nbf: nowSeconds() + 3600 }), status: 401, body: 'Jwt not yet valid' },
  { name: 'nbf 30s ahead: inside the clock skew', claims: () => ({ aud: 'svc-b', nbf: nowSeconds() + 30 }), status: 200 },
  { name: 'wrong issuer', claims: () => ({ aud: 'svc-b', iss: 'https://evil.example.test' }), status: 401, body: 'Jwt issuer is not configured' },
  { name: 'exp that is not a number', claims: () => ({ aud: 'svc-b', exp: 'tomorrow' }), status: 401, body: 'Jwt payload [exp] field is not an integer' },
];

for (const c of claimCases) {
  test(`claims: ${c.name} → ${c.status}`, async () => {
    const token = await sign(rsa, { iss: ISSUER, sub: 'carol', ...c.claims() });
    const res = await request(B, 80, { path: '/c?x=y', headers: { 'x-jwt-assertion': token } });
    if (c.status === 200) assert.equal(res.status, 200, res.body);
    else await expectDenied(res, c.status as 401 | 403, c.body ?? '', `http://${B}/c`);
  });
}

test('forwardOriginalToken: true keeps the token upstream', async () => {
  const token = istioToken('TokenIssuer1');
  const res = await request(C, 80, { headers: bearer(token) });
  assert.equal(res.status, 200);
  assert.equal(echoOf(res).headers['authorization'], `Bearer ${token}`);
  assert.equal(lastRecord().auth?.principal, 'test-issuer-1@istio.io/sub-1');
});

interface MultiCase {
  readonly name: string;
  readonly headers: Record<string, string>;
  readonly status: number;
  readonly body?: string;
  readonly principal?: string;
}

// Istio: ANY(p1, p2, ALL(p1 or missing, p2 or missing)).
const multiCases: ReadonlyArray<MultiCase> = [
  { name: 'issuer 1 at its location', headers: bearer(istioToken('TokenIssuer1')), status: 200, principal: 'test-issuer-1@istio.io/sub-1' },
  { name: 'issuer 2 at its location', headers: { 'x-token-2': istioToken('TokenIssuer2') }, status: 200, principal: 'test-issuer-2@istio.io/sub-2' },
  { name: 'no token', headers: {}, status: 200 },
  { name: 'issuer 3, configured nowhere', headers: bearer(istioToken('TokenIssuer3')), status: 401, body: 'Jwt issuer is not configured' },
  { name: 'issuer 2 at issuer 1\'s location', headers: bearer(istioToken('TokenIssuer2')), status: 401, body: 'Jwt issuer is not configured' },
  { name: 'expired at issuer 1\'s location', headers: bearer(istioToken('TokenExpired')), status: 401, body: 'Jwt is expired' },
  { name: 'valid issuer 1 and an invalid token at issuer 2\'s location: one provider suffices (Istio)', headers: { ...bearer(istioToken('TokenIssuer1')), 'x-token-2': 'garbage' }, status: 200, principal: 'test-issuer-1@istio.io/sub-1' },
];

for (const c of multiCases) {
  test(`two issuers: ${c.name} → ${c.status}`, async () => {
    const res = await request(D, 80, { headers: c.headers });
    assert.equal(res.status, c.status, res.body);
    if (c.body !== undefined) assert.equal(res.body, c.body);
    if (c.status === 200) assert.equal(lastRecord().auth?.principal, c.principal);
  });
}

test('CORS preflight bypasses JWT validation; a plain OPTIONS does not', async () => {
  const headers = { ...bearer(istioToken('TokenExpired')), origin: 'https://app.example.test', 'access-control-request-method': 'POST' };
  const preflight = await request(A, 80, { method: 'OPTIONS', headers });
  assert.equal(preflight.status, 200);
  assert.equal(echoOf(preflight).method, 'OPTIONS');
  const plain = await request(A, 80, { method: 'OPTIONS', headers: bearer(istioToken('TokenExpired')) });
  assert.equal(plain.status, 401);
});

test('the realm is the request URL without its query, at most 256 characters', async () => {
  const long = `/${'x'.repeat(400)}`;
  const res = await request(A, 80, { path: `${long}?q=1`, headers: { ...bearer(istioToken('TokenExpired')), host: 'svc-a.default.svc.cluster.local' } });
  assert.equal(res.status, 401);
  const realm = `http://svc-a.default.svc.cluster.local${long}`.slice(0, 256);
  assert.equal(res.headers['www-authenticate'], `Bearer realm="${realm}", error="invalid_token"`);
});

/** A token whose payload is taken from another token: the signature no longer matches. */
function swapPayload(token: string, donor: string): string {
  const [h, , s] = token.split('.');
  return `${h}.${donor.split('.')[1]}.${s}`;
}
