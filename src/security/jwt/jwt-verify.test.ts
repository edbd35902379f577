// Tests for JWKS parsing and signature verification: jwt_verify_lib's key selection by kid and alg, every
// algorithm family, and the algorithm-confusion attacks (alg none, HS256 keyed with an RSA public key).
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { before, test } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { parseJwks, type KeySet } from './jwks.js';
import { parseJwt, type ParsedJwt } from './jwt-token.js';
import { hasUnknownKid, verifySignature } from './jwt-verify.js';

type Alg = 'RS256' | 'RS384' | 'PS256' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';
const keys = new Map<Alg, { priv: CryptoKey; jwk: JWK }>();
const SECRET = Buffer.from('a shared secret of at least 32 bytes!!');

before(async () => {
  for (const alg of ['RS256', 'RS384', 'PS256', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const) {
    const pair = await generateKeyPair(alg, { extractable: true });
    keys.set(alg, { priv: pair.privateKey, jwk: await exportJWK(pair.publicKey) });
  }
});

function key(alg: Alg): { priv: CryptoKey; jwk: JWK } {
  const k = keys.get(alg);
  assert.ok(k !== undefined);
  return k;
}

async function signed(alg: Alg | 'HS256', kid: string | undefined, signer?: CryptoKey | Uint8Array): Promise<ParsedJwt> {
  const t = await new SignJWT({ iss: 'i', sub: 's' })
    .setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) })
    .sign(signer ?? (alg === 'HS256' ? SECRET : key(alg).priv));
  const jwt = parseJwt(t);
  assert.equal(typeof jwt, 'object', String(jwt));
  return jwt as ParsedJwt;
}

function set(...jwks: JWK[]): KeySet {
  const s = parseJwks(JSON.stringify({ keys: jwks }));
  assert.equal(typeof s, 'object', String(s));
  return s as KeySet;
}

const octJwk = (extra: Partial<JWK> = {}): JWK => ({ kty: 'oct', k: SECRET.toString('base64url'), ...extra });

for (const alg of ['RS256', 'RS384', 'PS256', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const) {
  test(`${alg}: verifies with the matching key, fails with a tampered signature`, async () => {
    const jwt = await signed(alg, 'k1');
    const ks = set({ ...key(alg).jwk, kid: 'k1' });
    assert.equal(await verifySignature(jwt, ks), 'Ok');
    const sig = jwt.token.split('.')[2] ?? '';
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    const tampered = parseJwt(jwt.token.replace(sig, flipped)) as ParsedJwt;
    assert.equal(await verifySignature(tampered, ks), 'JwtVerificationFail');
  });
}

test('HS256 with an oct key', async () => {
  assert.equal(await verifySignature(await signed('HS256', undefined), set(octJwk())), 'Ok');
  assert.equal(await verifySignature(await signed('HS256', undefined, Buffer.from('another secret of at least 32 bytes')), set(octJwk())), 'JwtVerificationFail');
});

interface SelectCase {
  readonly name: string;
  readonly tokenKid: string | undefined;
  readonly jwks: () => JWK[];
  readonly status: string;
}

const selectCases: ReadonlyArray<SelectCase> = [
  { name: 'kid differs from the only key', tokenKid: 'k2', jwks: () => [{ ...key('RS256').jwk, kid: 'k1' }], status: 'JwksKidAlgMismatch' },
  { name: 'key without kid matches any kid', tokenKid: 'k2', jwks: () => [{ ...key('RS256').jwk }], status: 'Ok' },
  { name: 'token without kid tries every key', tokenKid: undefined, jwks: () => [{ ...key('ES256').jwk, kid: 'e' }, { ...key('RS256').jwk, kid: 'r' }], status: 'Ok' },
  { name: 'key alg differs from the token alg', tokenKid: 'k1', jwks: () => [{ ...key('RS256').jwk, kid: 'k1', alg: 'RS384' }], status: 'JwksKidAlgMismatch' },
  { name: 'right kid, wrong key material', tokenKid: 'k1', jwks: () => [{ ...key('RS384').jwk, kid: 'k1' }], status: 'JwtVerificationFail' },
  { name: 'second key with the same kid verifies', tokenKid: 'k1', jwks: () => [{ ...key('RS384').jwk, kid: 'k1' }, { ...key('RS256').jwk, kid: 'k1' }], status: 'Ok' },
];

for (const c of selectCases) {
  test(`key selection: ${c.name} → ${c.status}`, async () => {
    assert.equal(await verifySignature(await signed('RS256', c.tokenKid), set(...c.jwks())), c.status);
  });
}

test('attack: HS256 signed with the RSA public key as the HMAC secret is never accepted', async () => {
  const rsa = key('RS256').jwk;
  // The classic confusion: the attacker HMACs with the bytes of the published key.
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'k1' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ iss: 'i', sub: 'admin' })).toString('base64url');
  for (const secret of [JSON.stringify(rsa), rsa.n ?? '', Buffer.from(rsa.n ?? '', 'base64url').toString('latin1')]) {
    const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    const jwt = parseJwt(`${header}.${payload}.${sig}`) as ParsedJwt;
    assert.equal(await verifySignature(jwt, set({ ...rsa, kid: 'k1' })), 'JwtVerificationFail');
  }
});

test('attack: an EdDSA signature of the wrong length is refused before any crypto', async () => {
  const jwt = await signed('EdDSA', 'k1');
  const short = parseJwt(`${jwt.token.split('.').slice(0, 2).join('.')}.${Buffer.alloc(10).toString('base64url')}`) as ParsedJwt;
  assert.equal(await verifySignature(short, set({ ...key('EdDSA').jwk, kid: 'k1' })), 'JwtEd25519SignatureWrongLength');
});

test('an RSA key under 2048 bits is refused by jose (verification fails)', async () => {
  // jose will not even make such a key: node:crypto signs the test token.
  const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const input = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}`;
  const t = `${input}.${cryptoSign('sha256', Buffer.from(input), pair.privateKey).toString('base64url')}`;
  assert.equal(await verifySignature(parseJwt(t) as ParsedJwt, set(pair.publicKey.export({ format: 'jwk' }) as JWK)), 'JwtVerificationFail');
});

interface JwksCase {
  readonly name: string;
  readonly doc: string;
  readonly result: string | number;
}

const jwksCases: ReadonlyArray<JwksCase> = [
  { name: 'not JSON', doc: '{"keys": [', result: 'JwksParseError' },
  { name: 'a JSON array', doc: '[]', result: 'JwksParseError' },
  { name: 'no keys', doc: '{}', result: 'JwksNoKeys' },
  { name: 'keys not a list', doc: '{"keys": {}}', result: 'JwksBadKeys' },
  { name: 'empty keys', doc: '{"keys": []}', result: 'JwksNoValidKeys' },
  { name: 'only unusable keys', doc: '{"keys": [{"kty":"RSA","n":5,"e":"AQAB"}, {"kty":"XYZ"}, 7, {"kty":"oct"}]}', result: 'JwksNoValidKeys' },
  { name: 'RSA key with an EC alg', doc: '{"keys": [{"kty":"RSA","alg":"ES256","n":"AQAB","e":"AQAB"}]}', result: 'JwksNoValidKeys' },
  { name: 'EC key whose curve does not fit its alg', doc: '{"keys": [{"kty":"EC","alg":"ES384","crv":"P-256","x":"AA","y":"AA"}]}', result: 'JwksNoValidKeys' },
  { name: 'OKP key on an unsupported curve', doc: '{"keys": [{"kty":"OKP","crv":"X25519","x":"AA"}]}', result: 'JwksNoValidKeys' },
  { name: 'bad keys are skipped, good ones kept', doc: '{"keys": [{"kty":"RSA"}, {"kty":"oct","k":"c2VjcmV0"}, {"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"e"}]}', result: 2 },
];

for (const c of jwksCases) {
  test(`parseJwks: ${c.name}`, () => {
    const r = parseJwks(c.doc);
    if (typeof c.result === 'string') assert.equal(r, c.result);
    else assert.equal(typeof r === 'object' ? r.keys.length : r, c.result);
  });
}

test('hasUnknownKid: only a kid the set lacks asks for a refresh', async () => {
  const ks = set({ ...key('RS256').jwk, kid: 'k1' }, { ...key('ES256').jwk });
  assert.equal(hasUnknownKid(await signed('RS256', 'k1'), ks), false);
  assert.equal(hasUnknownKid(await signed('RS256', 'k9'), ks), true);
  assert.equal(hasUnknownKid(await signed('RS256', undefined), ks), false);
});
