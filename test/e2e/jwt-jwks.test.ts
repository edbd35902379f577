// End to end: remote JWKS at the waypoint against a real JWKS server on loopback — key rotation picked up
// through the unknown-kid refetch, a JWKS server that is down, slow, oversized or serving garbage (fail
// closed for presented tokens, missing tokens still pass, recovery afterwards), OpenID discovery, and
// policies attached through the waypoint Gateway and the istio-waypoint GatewayClass.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EchoReply } from '../harness/backends.js';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { type JwksServer, type JwtMesh, nowSeconds, requestAuthentication, sign, type SigningKey, signingKey, startJwksServer, startJwtMesh } from './jwt-fixtures.js';

const vip = vipRange();
const ROTATE = vip(1);
const OUTAGE = vip(2);
const DISCOVER = vip(3);
const OTHER = vip(4);

let backend: Backend;
let rotating: JwksServer;
let flaky: JwksServer;
let discovery: JwksServer;
let mesh: JwtMesh;
let k1: SigningKey;
let k2: SigningKey;
let fk: SigningKey;
let dk: SigningKey;

const ISSUER = 'https://rotating.example.test';
const FLAKY_ISSUER = 'https://flaky.example.test';
/** Short enough for a test, long enough that the limiter visibly holds back a burst. */
const MIN_REFETCH_MS = 300;

before(async () => {
  backend = await startBackend('echo');
  k1 = await signingKey('RS256', 'key-1');
  k2 = await signingKey('ES256', 'key-2');
  fk = await signingKey('PS256', 'flaky-key');
  dk = await signingKey('EdDSA', 'discovered');
  rotating = await startJwksServer([k1.jwk]);
  flaky = await startJwksServer([fk.jwk]);
  discovery = await startJwksServer([dk.jwk]);
  const ep = [`127.0.0.1:${backend.port}`];
  mesh = await startJwtMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'rotate', vip: ROTATE, endpoints: ep }),
      serviceYaml({ name: 'outage', vip: OUTAGE, endpoints: ep }),
      serviceYaml({ name: 'discover', vip: DISCOVER, endpoints: ep }),
      serviceYaml({ name: 'other', vip: OTHER, endpoints: ep }),
    ].join('\n'),
    'authn.yaml': [
      requestAuthentication('rotate', 'rotate', `    - issuer: ${ISSUER}\n      jwksUri: ${rotating.jwksUri}\n`),
      requestAuthentication('outage', 'outage', `    - issuer: ${FLAKY_ISSUER}\n      jwksUri: ${flaky.jwksUri}\n      timeout: 300ms\n`),
      // Neither jwks nor jwksUri: the issuer's OpenID configuration names the JWKS.
      requestAuthentication('discover', 'discover', `    - issuer: ${discovery.issuer}\n`),
    ].join(''),
  }, { minRefetchIntervalMs: MIN_REFETCH_MS, retryIntervalMs: 60_000 });
});

after(async () => {
  await mesh?.close();
  await Promise.all([rotating?.close(), flaky?.close(), discovery?.close()]);
  await backend?.close();
});

const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });
const claims = (iss: string): Record<string, unknown> => ({ iss, sub: 'u', exp: nowSeconds() + 600 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('key rotation: a token signed with a new key is accepted once the JWKS is refetched for its unknown kid', async () => {
  assert.equal((await request(ROTATE, 80, { headers: bearer(await sign(k1, claims(ISSUER))) })).status, 200);
  const fetchesBefore = rotating.hits('/jwks');
  assert.equal(fetchesBefore, 1, 'keys were fetched once and cached');
  for (let i = 0; i < 5; i++) assert.equal((await request(ROTATE, 80, { headers: bearer(await sign(k1, claims(ISSUER))) })).status, 200);
  assert.equal(rotating.hits('/jwks'), 1, 'cached keys serve later requests');

  // The issuer rotates: key-2 is published and key-1 retired.
  rotating.keys = [k2.jwk];
  await sleep(MIN_REFETCH_MS + 50);
  const rotated = await request(ROTATE, 80, { headers: bearer(await sign(k2, claims(ISSUER))) });
  assert.equal(rotated.status, 200, rotated.body);
  assert.equal(rotating.hits('/jwks'), 2);
  // Tokens of the retired key now fail: it is no longer in the set.
  const retired = await request(ROTATE, 80, { headers: bearer(await sign(k1, claims(ISSUER))) });
  assert.equal(retired.status, 401);
  assert.equal(retired.body, "Jwks doesn't have key to match kid or alg from Jwt");
});

test('unknown kids do not hammer the issuer: refetches are rate-limited', async () => {
  await sleep(MIN_REFETCH_MS + 50);
  const before = rotating.hits('/jwks');
  const stranger = await signingKey('RS256', 'never-published');
  const results = await Promise.all(Array.from({ length: 20 }, async () => (await request(ROTATE, 80, { headers: bearer(await sign(stranger, claims(ISSUER))) })).status));
  assert.deepEqual([...new Set(results)], [401]);
  assert.ok(rotating.hits('/jwks') - before <= 2, `at most one refetch per window (saw ${rotating.hits('/jwks') - before})`);
});

interface OutageCase {
  readonly mode: 'fail' | 'stall' | 'huge' | 'garbage';
  readonly what: string;
}

const outageCases: ReadonlyArray<OutageCase> = [
  { mode: 'fail', what: 'answers 503' },
  { mode: 'stall', what: 'does not answer within the rule\'s timeout' },
  { mode: 'huge', what: 'serves a 2 MB document' },
  { mode: 'garbage', what: 'serves malformed JSON' },
];

for (const c of outageCases) {
  test(`JWKS server ${c.what}: presented tokens fail closed, requests without a token pass`, async () => {
    // The new config's JWKS is prefetched when it is applied: break the server first.
    flaky.mode = c.mode;
    await mesh.write('authn-outage.yaml', requestAuthentication(`outage-${c.mode}`, 'outage', `    - issuer: https://${c.mode}.example.test\n      jwksUri: ${flaky.jwksUri}?${c.mode}\n      timeout: 300ms\n`));
    const started = Date.now();
    const token = await sign(fk, claims(`https://${c.mode}.example.test`));
    const denied = await request(OUTAGE, 80, { headers: bearer(token) });
    assert.equal(denied.status, 401);
    assert.equal(denied.body, 'Jwks remote fetch is failed');
    assert.equal(denied.headers['www-authenticate'], `Bearer realm="http://${OUTAGE}/", error="invalid_token"`);
    assert.ok(Date.now() - started < 10_000, 'bounded by the timeout, not hanging');
    assert.equal((await request(OUTAGE, 80)).status, 200);
    // The server recovers: after the refetch window, the same token verifies.
    flaky.mode = 'serve';
    await sleep(MIN_REFETCH_MS + 50);
    const ok = await request(OUTAGE, 80, { headers: bearer(token) });
    assert.equal(ok.status, 200, ok.body);
  });
}

test('a JWKS outage after keys were fetched keeps the cached keys working', async () => {
  await mesh.write('authn-outage.yaml', '');
  flaky.mode = 'serve';
  const token = await sign(fk, claims(FLAKY_ISSUER));
  assert.equal((await request(OUTAGE, 80, { headers: bearer(token) })).status, 200);
  flaky.mode = 'fail';
  await sleep(MIN_REFETCH_MS + 50);
  assert.equal((await request(OUTAGE, 80, { headers: bearer(token) })).status, 200);
  flaky.mode = 'serve';
});

test('OpenID discovery: keys found through the issuer\'s openid-configuration (EdDSA), prefetched at load', async () => {
  // Applying the config fetched the keys already (as istiod does); no request has carried a token yet.
  const deadline = Date.now() + 5000;
  while (discovery.hits('/jwks') === 0 && Date.now() < deadline) await sleep(20);
  assert.equal(discovery.hits('/jwks'), 1);
  const res = await request(DISCOVER, 80, { headers: bearer(await sign(dk, claims(discovery.issuer))) });
  assert.equal(res.status, 200, res.body);
  assert.equal(discovery.hits('/.well-known/openid-configuration'), 1);
  assert.equal(discovery.hits('/jwks'), 1);
  assert.equal(mesh.records.at(-1)?.auth?.principal, `${discovery.issuer}/u`);
});

interface TargetCase {
  readonly name: string;
  /** Built when the test runs (the JWKS server's address is known by then). */
  readonly yaml: () => string;
  /** Whether Service `other` (no policy of its own) now validates tokens. */
  readonly applies: boolean;
  readonly diagnostic?: string;
}

const targetPolicy = (name: string, ns: string, targets: string, selector = false): string => `---
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: {name: ${name}, namespace: ${ns}}
spec:
${selector ? '  selector: {matchLabels: {app: other}}\n' : targets === '' ? '' : `  targetRefs: [${targets}]\n`}  jwtRules:
    - issuer: ${ISSUER}
      jwksUri: ${rotating.jwksUri}
`;

const targetCases: ReadonlyArray<TargetCase> = [
  { name: 'targetRefs the waypoint Gateway', yaml: () => targetPolicy('gw', 'default', '{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}'), applies: true },
  { name: 'targets GatewayClass istio-waypoint from the root namespace', yaml: () => `---\napiVersion: v1\nkind: Namespace\nmetadata: {name: istio-system}\n${targetPolicy('class', 'istio-system', '{kind: GatewayClass, group: gateway.networking.k8s.io, name: istio-waypoint}')}`, applies: true },
  { name: 'targets GatewayClass from another namespace (ignored)', yaml: () => targetPolicy('class', 'default', '{kind: GatewayClass, group: gateway.networking.k8s.io, name: istio-waypoint}'), applies: false, diagnostic: 'invalid-target' },
  { name: 'uses a selector (sidecars only)', yaml: () => targetPolicy('sel', 'default', '', true), applies: false, diagnostic: 'not-enforced-by-waypoint' },
  { name: 'has no target at all (namespace-wide)', yaml: () => targetPolicy('ns', 'default', ''), applies: false, diagnostic: 'not-enforced-by-waypoint' },
  { name: 'targets another Gateway', yaml: () => targetPolicy('gw2', 'default', '{kind: Gateway, group: gateway.networking.k8s.io, name: ingress}'), applies: false, diagnostic: 'target-not-found' },
];

for (const c of targetCases) {
  test(`a policy that ${c.name} ${c.applies ? 'applies to every Service of the waypoint' : 'does not apply'}`, async () => {
    await mesh.write('targets.yaml', c.yaml());
    const garbage = await request(OTHER, 80, { headers: bearer('not.a.token') });
    assert.equal(garbage.status, c.applies ? 401 : 200, garbage.body);
    const good = await request(OTHER, 80, { headers: bearer(await sign(k2, claims(ISSUER))) });
    assert.equal(good.status, 200);
    if (c.applies) assert.equal((JSON.parse(good.body) as EchoReply).headers['authorization'], undefined);
    if (c.diagnostic !== undefined) {
      const codes = mesh.waypoint.store.current?.diagnostics.map((d) => d.code) ?? [];
      assert.ok(codes.includes(c.diagnostic), `diagnostic ${c.diagnostic} in ${codes.join(', ')}`);
    }
    await mesh.write('targets.yaml', '');
  });
}
