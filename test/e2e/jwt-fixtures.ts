// Shared pieces of the JWT end-to-end tests: a real JWKS / OpenID server on loopback whose behaviour tests
// switch (serve, fail, stall, oversize, garbage), signing keys and tokens (jose), Istio's own test tokens,
// and a waypoint whose observer keeps the request identity each exchange ended with.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { Waypoint } from '../../src/app/waypoint.js';
import { FileSource } from '../../src/config/source/file-source.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { HttpExchange, RequestAuth } from '../../src/proxy/http-exchange.js';
import type { JwksResolverOptions } from '../../src/security/jwt/jwks-resolver.js';

// Tests run from dist/test/e2e/; the data lives in the source tree.
const DATA = fileURLToPath(new URL('../../../test/e2e/jwt-testdata/', import.meta.url));

/** Istio's tests/common/jwt tokens (issuers test-issuer-{1,2,3}@istio.io, signed by key-test.pem). */
export const ISTIO_TOKENS: Readonly<Record<string, string>> = JSON.parse(readFileSync(path.join(DATA, 'istio-test-tokens.json'), 'utf8')) as Record<string, string>;
export const ISTIO_JWKS: string = readFileSync(path.join(DATA, 'jwks-test.json'), 'utf8');
export const ISTIO_KID = 'tT_w9LRNrY7wJalGsTYSt7rutZi86Gvyc0EKR4CaQAw';
/** The private key behind ISTIO_JWKS (a published test key), to sign tokens Istio's set lacks. */
export const ISTIO_KEY: KeyObject = createPrivateKey(readFileSync(path.join(DATA, 'key-test.pem'), 'utf8'));

export function istioToken(name: string): string {
  const t = ISTIO_TOKENS[name];
  if (t === undefined) throw new Error(`no Istio test token ${name}`);
  return t;
}

export interface SigningKey {
  readonly alg: 'RS256' | 'ES256' | 'PS256' | 'EdDSA';
  readonly kid: string;
  readonly privateKey: CryptoKey | KeyObject;
  readonly jwk: JWK;
}

export async function signingKey(alg: SigningKey['alg'], kid: string): Promise<SigningKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey: pair.privateKey, jwk };
}

/** A token signed with `key`; `iat` defaults to now. Header overrides replace `alg`/`kid`/`typ`. */
export function sign(key: SigningKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).setIssuedAt().sign(key.privateKey);
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** How the JWKS server answers its next requests. */
export type JwksMode = 'serve' | 'fail' | 'stall' | 'huge' | 'garbage';

export interface JwksServer {
  readonly url: string;
  /** `http://127.0.0.1:port` — the issuer whose OpenID configuration this server publishes. */
  readonly issuer: string;
  readonly jwksUri: string;
  keys: JWK[];
  mode: JwksMode;
  /** Requests per path since start. */
  hits(p: string): number;
  close(): Promise<void>;
}

/** A JWKS + OpenID discovery server on 127.0.0.1. */
export async function startJwksServer(initial: JWK[]): Promise<JwksServer> {
  const hits = new Map<string, number>();
  const stalled = new Set<http.ServerResponse>();
  const state: { keys: JWK[]; mode: JwksMode } = { keys: initial, mode: 'serve' };
  let base = '';
  const server = http.createServer((req, res) => {
    const p = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(p, (hits.get(p) ?? 0) + 1);
    const send = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (state.mode === 'fail') return send(503, '{"error":"unavailable"}');
    if (state.mode === 'stall') {
      stalled.add(res);
      return;
    }
    if (p === '/.well-known/openid-configuration') return send(200, JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks` }));
    if (p !== '/jwks') return send(404, '{}');
    if (state.mode === 'garbage') return send(200, '{"keys": [ this is not json');
    if (state.mode === 'huge') {
      // Two megabytes of keys that are not even valid: refused by size before anything is parsed.
      const filler = JSON.stringify({ kty: 'RSA', kid: 'x', n: 'A'.repeat(4000), e: 'AQAB' });
      return send(200, `{"keys":[${Array.from({ length: 500 }, () => filler).join(',')}]}`);
    }
    send(200, JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    issuer: base,
    jwksUri: `${base}/jwks`,
    get keys() {
      return state.keys;
    },
    set keys(k: JWK[]) {
      state.keys = k;
    },
    get mode() {
      return state.mode;
    },
    set mode(m: JwksMode) {
      state.mode = m;
      if (m !== 'stall') for (const r of stalled) r.destroy();
    },
    hits: (p) => hits.get(p) ?? 0,
    close: () => {
      for (const r of stalled) r.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface JwtExchange {
  readonly status: number;
  readonly details: string;
  readonly path: string;
  readonly auth: RequestAuth | undefined;
}

export interface JwtMesh {
  readonly waypoint: Waypoint;
  readonly records: JwtExchange[];
  write(name: string, yaml: string): Promise<void>;
  close(): Promise<void>;
}

/** A waypoint in-process (as test/harness/mesh.ts) that records each exchange's identity and details. */
export async function startJwtMesh(files: Readonly<Record<string, string>>, jwks: Partial<Omit<JwksResolverOptions, 'log'>> = {}): Promise<JwtMesh> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-jwt-'));
  for (const [name, yaml] of Object.entries(files)) await writeFile(path.join(dir, name), yaml);
  const records: JwtExchange[] = [];
  const waypoint = new Waypoint({
    source: new FileSource([dir]),
    waypoint: undefined,
    clusterDomain: 'cluster.local',
    meshConfigFile: undefined,
    adminAddress: { host: '127.0.0.1', port: 0 },
    metricsAddress: undefined,
    hboneAddress: undefined,
    connectTimeoutMs: 2000,
    log: silentLogger,
    random: Math.random,
    observer: (ex: HttpExchange) => records.push({ status: ex.status, details: ex.details, path: ex.path, auth: ex.requestAuth }),
    jwks,
  });
  await waypoint.start();
  return {
    waypoint,
    records,
    async write(name, yaml) {
      await writeFile(path.join(dir, name), yaml);
      await waypoint.reload();
    },
    async close() {
      await waypoint.stop(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A RequestAuthentication targeting one Service; `rules` is the YAML of `jwtRules` items, indented 4. */
export function requestAuthentication(name: string, service: string, rules: string, namespace = 'default'): string {
  return `---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  targetRefs:
    - kind: Service
      group: ""
      name: ${service}
  jwtRules:
${rules}`;
}

/** YAML-safe single-line JSON (a JWKS inline in `jwks:`). */
export function yamlString(text: string): string {
  return JSON.stringify(JSON.stringify(JSON.parse(text)));
}
