// Tests for JWT parsing and claim checks: each malformed token gets jwt_verify_lib's status, clock skew,
// and audience normalisation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AudienceChecker, checkTime, decodeBase64url, parseJwt, type ParsedJwt } from './jwt-token.js';

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const token = (header: unknown, payload: unknown, sig = 'c2ln'): string => `${b64(header)}.${b64(payload)}.${sig}`;
const H = { alg: 'RS256', kid: 'k1' };

interface ParseCase {
  readonly name: string;
  readonly token: string;
  readonly status: string;
}

const parseCases: ReadonlyArray<ParseCase> = [
  { name: 'one section', token: 'abc', status: 'JwtBadFormat' },
  { name: 'four sections', token: 'a.b.c.d', status: 'JwtBadFormat' },
  { name: 'empty payload section', token: `${b64(H)}..c2ln`, status: 'JwtBadFormat' },
  { name: 'empty signature section', token: `${b64(H)}.${b64({})}.`, status: 'JwtBadFormat' },
  { name: 'empty string', token: '', status: 'JwtBadFormat' },
  { name: 'header not base64url', token: `a+b/.${b64({})}.c2ln`, status: 'JwtHeaderParseErrorBadBase64' },
  { name: 'header of impossible length', token: `abcde.${b64({})}.c2ln`, status: 'JwtHeaderParseErrorBadBase64' },
  { name: 'header not JSON', token: `${b64('{not json')}.${b64({})}.c2ln`, status: 'JwtHeaderParseErrorBadJson' },
  { name: 'header a JSON array', token: token([1, 2], {}), status: 'JwtHeaderParseErrorBadJson' },
  { name: 'header invalid UTF-8', token: `${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${b64({})}.c2ln`, status: 'JwtHeaderParseErrorBadJson' },
  { name: 'no alg', token: token({ typ: 'JWT' }, {}), status: 'JwtHeaderBadAlg' },
  { name: 'alg not a string', token: token({ alg: 256 }, {}), status: 'JwtHeaderBadAlg' },
  { name: 'alg none', token: token({ alg: 'none' }, {}), status: 'JwtHeaderNotImplementedAlg' },
  { name: 'alg lowercase rs256', token: token({ alg: 'rs256' }, {}), status: 'JwtHeaderNotImplementedAlg' },
  { name: 'kid not a string', token: token({ alg: 'RS256', kid: 7 }, {}), status: 'JwtHeaderBadKid' },
  { name: 'payload not base64url', token: `${b64(H)}.%%%.c2ln`, status: 'JwtPayloadParseErrorBadBase64' },
  { name: 'payload not JSON', token: `${b64(H)}.${b64('nope')}.c2ln`, status: 'JwtPayloadParseErrorBadJson' },
  { name: 'payload a string', token: token(H, 'just text'), status: 'JwtPayloadParseErrorBadJson' },
  { name: 'iss a number', token: token(H, { iss: 1 }), status: 'JwtPayloadParseErrorIssNotString' },
  { name: 'sub an object', token: token(H, { sub: {} }), status: 'JwtPayloadParseErrorSubNotString' },
  { name: 'iat a string', token: token(H, { iat: 'now' }), status: 'JwtPayloadParseErrorIatNotInteger' },
  { name: 'nbf negative', token: token(H, { nbf: -1 }), status: 'JwtPayloadParseErrorNbfOutOfRange' },
  { name: 'exp null', token: token(H, { exp: null }), status: 'JwtPayloadParseErrorExpNotInteger' },
  { name: 'exp beyond 2^64', token: token(H, { exp: 1e20 }), status: 'JwtPayloadParseErrorExpOutOfRange' },
  { name: 'jti a number', token: token(H, { jti: 5 }), status: 'JwtPayloadParseErrorJtiNotString' },
  { name: 'aud a number', token: token(H, { aud: 5 }), status: 'JwtPayloadParseErrorAudNotString' },
  { name: 'aud a list with a number', token: token(H, { aud: ['a', 1] }), status: 'JwtPayloadParseErrorAudNotString' },
  { name: 'signature not base64url', token: token(H, {}, 'sig+nature'), status: 'JwtSignatureParseErrorBadBase64' },
];

for (const c of parseCases) {
  test(`parseJwt: ${c.name} → ${c.status}`, () => {
    assert.equal(parseJwt(c.token), c.status);
  });
}

test('parseJwt: a well-formed token exposes its claims', () => {
  const t = token({ alg: 'ES256', kid: 'k' }, { iss: 'i', sub: 's', aud: ['a', 'b'], nbf: 10, exp: 20.7, custom: { x: 1 } });
  const jwt = parseJwt(t) as ParsedJwt;
  assert.equal(typeof jwt, 'object');
  assert.equal(jwt.alg, 'ES256');
  assert.equal(jwt.kid, 'k');
  assert.equal(jwt.iss, 'i');
  assert.equal(jwt.sub, 's');
  assert.deepEqual(jwt.audiences, ['a', 'b']);
  assert.equal(jwt.nbf, 10);
  assert.equal(jwt.exp, 20);
  assert.deepEqual(jwt.payload['custom'], { x: 1 });
  assert.equal(jwt.payloadSegment, t.split('.')[1]);
  assert.equal(jwt.signatureBytes, 3);
});

test('parseJwt: a string aud is a one-element list; absent claims default', () => {
  const jwt = parseJwt(token({ alg: 'HS256' }, { aud: 'only' })) as ParsedJwt;
  assert.deepEqual(jwt.audiences, ['only']);
  assert.equal(jwt.kid, '');
  assert.equal(jwt.iss, '');
  assert.equal(jwt.sub, undefined);
  assert.equal(jwt.exp, 0);
});

const NOW = 1_700_000_000;
const timeCases: ReadonlyArray<{ name: string; nbf: number; exp: number; status: string | undefined }> = [
  { name: 'no exp, no nbf', nbf: 0, exp: 0, status: undefined },
  { name: 'exp in the future', nbf: 0, exp: NOW + 10, status: undefined },
  { name: 'expired 60s ago (skew edge)', nbf: 0, exp: NOW - 60, status: undefined },
  { name: 'expired 61s ago', nbf: 0, exp: NOW - 61, status: 'JwtExpired' },
  { name: 'nbf 60s ahead (skew edge)', nbf: NOW + 60, exp: 0, status: undefined },
  { name: 'nbf 61s ahead', nbf: NOW + 61, exp: 0, status: 'JwtNotYetValid' },
  { name: 'both wrong: nbf is checked first', nbf: NOW + 999, exp: NOW - 999, status: 'JwtNotYetValid' },
];

for (const c of timeCases) {
  test(`checkTime: ${c.name}`, () => {
    const jwt = parseJwt(token(H, { ...(c.nbf === 0 ? {} : { nbf: c.nbf }), ...(c.exp === 0 ? {} : { exp: c.exp }) })) as ParsedJwt;
    assert.equal(checkTime(jwt, NOW), c.status);
  });
}

const audCases: ReadonlyArray<{ configured: string[]; token: string[]; ok: boolean }> = [
  { configured: [], token: [], ok: true },
  { configured: ['a'], token: [], ok: false },
  { configured: ['a'], token: ['b', 'a'], ok: true },
  { configured: ['https://api.example.com/'], token: ['api.example.com'], ok: true },
  { configured: ['api.example.com'], token: ['http://api.example.com'], ok: true },
  { configured: ['api.example.com'], token: ['https://api.example.com/v1'], ok: false },
  { configured: ['A'], token: ['a'], ok: false },
];

for (const c of audCases) {
  test(`audiences ${JSON.stringify(c.configured)} vs token ${JSON.stringify(c.token)} → ${c.ok}`, () => {
    assert.equal(new AudienceChecker(c.configured).allows(c.token), c.ok);
  });
}

test('decodeBase64url: padding optional but consistent, standard base64 characters refused', () => {
  assert.deepEqual(decodeBase64url('YQ'), Buffer.from('a'));
  assert.deepEqual(decodeBase64url('YQ=='), Buffer.from('a'));
  assert.equal(decodeBase64url('YQ='), undefined);
  assert.equal(decodeBase64url('a/b+'), undefined);
  assert.equal(decodeBase64url('Y'), undefined);
});
