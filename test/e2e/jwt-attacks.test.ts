// End to end: hostile tokens against the waypoint's JWT validation — alg none, HS256 keyed with the RSA
// public key, tokens of the wrong key, oversized and malformed tokens, duplicated tokens in several places.
// Each is refused with Envoy's status and text, never reaches the backend with an identity, never crashes.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, sign as rsaSign } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { ISTIO_JWKS, ISTIO_KEY, ISTIO_KID, istioToken, type JwtMesh, requestAuthentication, startJwtMesh, yamlString } from './jwt-fixtures.js';

const vip = vipRange();
const SVC = vip(1);
const ISSUER = 'test-issuer-1@istio.io';
let backend: Backend;
let mesh: JwtMesh;

before(async () => {
  backend = await startBackend('echo');
  mesh = await startJwtMesh({
    'mesh.yaml': `${meshPreamble()}${serviceYaml({ name: 'api', vip: SVC, endpoints: [`127.0.0.1:${backend.port}`] })}`,
    'authn.yaml': requestAuthentication('api', 'api', `    - issuer: ${ISSUER}\n      jwks: ${yamlString(ISTIO_JWKS)}\n`),
  });
});

after(async () => {
  await mesh?.close();
  await backend?.close();
});

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const claims = { iss: ISSUER, sub: 'admin', exp: 4_000_000_000 };

/** A token signed with Istio's published test key through node:crypto (so any header can be forged). */
function rs256(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${rsaSign('sha256', Buffer.from(input), ISTIO_KEY).toString('base64url')}`;
}

function hs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const jwk = (JSON.parse(ISTIO_JWKS) as { keys: Array<Record<string, string>> }).keys[0] ?? {};
const publicPem = (): string => createPublicKey(ISTIO_KEY).export({ type: 'spki', format: 'pem' }).toString();

interface AttackCase {
  readonly name: string;
  readonly token: () => string;
  readonly body: string;
}

const attacks: ReadonlyArray<AttackCase> = [
  { name: 'alg none, no signature', token: () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, body: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections' },
  { name: 'alg none with a dummy signature', token: () => `${b64({ alg: 'none' })}.${b64(claims)}.AAAA`, body: 'Jwt header [alg] is not supported' },
  { name: 'alg "None"', token: () => `${b64({ alg: 'None' })}.${b64(claims)}.AAAA`, body: 'Jwt header [alg] is not supported' },
  { name: 'HS256 keyed with the RSA public key (PEM)', token: () => hs256({ alg: 'HS256', kid: ISTIO_KID }, claims, publicPem()), body: 'Jwt verification fails' },
  { name: 'HS256 keyed with the JWK modulus', token: () => hs256({ alg: 'HS256', kid: ISTIO_KID }, claims, Buffer.from(jwk['n'] ?? '', 'base64url')), body: 'Jwt verification fails' },
  { name: 'HS256 keyed with the JWK JSON', token: () => hs256({ alg: 'HS256' }, claims, JSON.stringify(jwk)), body: 'Jwt verification fails' },
  { name: 'RS256 signature over other claims', token: () => `${rs256({ alg: 'RS256', kid: ISTIO_KID }, claims).split('.').slice(0, 1)}.${b64({ ...claims, sub: 'root' })}.${rs256({ alg: 'RS256', kid: ISTIO_KID }, claims).split('.')[2] ?? ''}`, body: 'Jwt verification fails' },
  { name: 'a kid the JWKS does not have', token: () => rs256({ alg: 'RS256', kid: 'forged' }, claims), body: "Jwks doesn't have key to match kid or alg from Jwt" },
  { name: 'embedded jwk header is ignored', token: () => hs256({ alg: 'HS256', jwk: { kty: 'oct', k: b64('attacker') } }, claims, 'attacker'), body: 'Jwt verification fails' },
  { name: 'malformed base64 in the header (impossible length)', token: () => `e30AB.${b64(claims)}.AAAA`, body: 'Jwt header is an invalid Base64url encoded' },
  // Envoy takes the run of base64url characters after "Bearer ": a "*" ends the token there.
  { name: 'a character outside base64url cuts the token short', token: () => `e30*.${b64(claims)}.AAAA`, body: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections' },
  { name: 'header that is not JSON', token: () => `${b64('{"alg":"RS256"')}.${b64(claims)}.AAAA`, body: 'Jwt header is an invalid JSON' },
  { name: 'payload that is not JSON', token: () => `${b64({ alg: 'RS256' })}.${b64('not json')}.AAAA`, body: 'Jwt payload is an invalid JSON' },
  { name: 'signature that is not base64url', token: () => `${b64({ alg: 'RS256' })}.${b64(claims)}.AAAAA`, body: 'Jwt signature is an invalid Base64url encoded' },
  { name: 'a 40 KB payload with a forged signature', token: () => `${b64({ alg: 'RS256', kid: ISTIO_KID })}.${b64({ ...claims, pad: 'x'.repeat(40_000) })}.AAAA`, body: 'Jwt verification fails' },
  { name: 'deeply nested JSON', token: () => `${b64({ alg: 'RS256' })}.${b64(`${'['.repeat(20_000)}${']'.repeat(20_000)}`)}.AAAA`, body: 'Jwt payload is an invalid JSON' },
];

for (const c of attacks) {
  test(`attack: ${c.name} → 401 "${c.body}"`, async () => {
    const hitsBefore = backend.hits();
    const res = await request(SVC, 80, { headers: { authorization: `Bearer ${c.token()}` } });
    assert.equal(res.status, 401, res.body);
    assert.equal(res.body, c.body);
    assert.equal(backend.hits(), hitsBefore, 'nothing reached the backend');
  });
}

test('a properly signed forged-header token still verifies (control for the cases above)', async () => {
  const res = await request(SVC, 80, { headers: { authorization: `Bearer ${rs256({ alg: 'RS256', kid: ISTIO_KID }, claims)}` } });
  assert.equal(res.status, 200);
  assert.equal(mesh.records.at(-1)?.auth?.principal, `${ISSUER}/admin`);
});

test('oversized token: headers beyond the 60 KiB limit get 431 and the waypoint keeps serving', async () => {
  const res = await request(SVC, 80, { headers: { authorization: `Bearer ${'a'.repeat(70 * 1024)}.b.c` } });
  assert.equal(res.status, 431);
  assert.equal((await request(SVC, 80)).status, 200);
});

interface DuplicateCase {
  readonly name: string;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly status: number;
}

const good = (): string => istioToken('TokenIssuer1');
const expired = (): string => istioToken('TokenExpired');

const duplicates: ReadonlyArray<() => DuplicateCase> = [
  () => ({ name: 'valid header, expired access_token parameter', path: `/?access_token=${expired()}`, headers: { authorization: `Bearer ${good()}` }, status: 401 }),
  () => ({ name: 'expired header, valid access_token parameter', path: `/?access_token=${good()}`, headers: { authorization: `Bearer ${expired()}` }, status: 401 }),
  () => ({ name: 'valid token twice in the parameter, once tampered', path: `/?access_token=${good()}&access_token=${good().slice(0, -4)}AAAA`, headers: {}, status: 401 }),
  () => ({ name: 'two Authorization headers, the second forged', path: '/', headers: { authorization: [`Bearer ${good()}`, `Bearer ${rs256({ alg: 'RS256', kid: 'x' }, claims)}`] }, status: 401 }),
  () => ({ name: 'valid in both places', path: `/?access_token=${good()}`, headers: { authorization: `Bearer ${good()}` }, status: 200 }),
];

for (const make of duplicates) {
  const c = make();
  test(`duplicate tokens: ${c.name} → ${c.status}`, async () => {
    const res = await rawRequest(c.path, c.headers);
    assert.equal(res.status, c.status, res.body);
    if (c.status === 200) {
      const echo = JSON.parse(res.body) as { path: string; headers: Record<string, unknown> };
      assert.equal(echo.headers['authorization'], undefined);
      assert.equal(echo.path, '/');
    }
  });
}

test('the waypoint is still healthy after every attack', async () => {
  assert.equal((await request(SVC, 80, { headers: { authorization: `Bearer ${good()}` } })).status, 200);
});

/** node:http merges repeated headers; a raw socket sends them as separate lines. */
async function rawRequest(path: string, headers: Record<string, string | string[]>): Promise<{ status: number; body: string }> {
  const lines = [`GET ${path} HTTP/1.1`, `host: ${SVC}`, 'connection: close'];
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  return new Promise((resolve, reject) => {
    const socket = connect(80, SVC, () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status, body: /transfer-encoding: chunked/i.test(text) ? dechunk(body) : body });
    });
  });
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}
