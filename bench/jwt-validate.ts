// JWT validation cost per request with cached keys: RS256 and ES256 beside no JWT filter, measured
// (1) on the filter alone and (2) end to end through an in-process waypoint (loopback only).
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { Pool } from 'undici';
import { Waypoint } from '../src/app/waypoint.js';
import { jwtRule } from '../src/config/model/request-authentication.js';
import { FileSource } from '../src/config/source/file-source.js';
import { HeaderList } from '../src/http/header-list.js';
import { silentLogger } from '../src/observability/logger.js';
import type { HttpExchange, RequestAuth } from '../src/proxy/http-exchange.js';
import { DEFAULT_VERIFIED_TOKEN_CACHE_SIZE, JwtAuthnFilter } from '../src/security/jwt/jwt-authn-filter.js';
import { compileProvider } from '../src/security/jwt/jwt-provider.js';
import { meshPreamble, serviceYaml } from '../test/harness/config.js';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 20_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
/** Filter-alone cases are repeated and the best round kept: the host is shared and noisy. */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const ISSUER = 'https://issuer.bench.test';

/** Distinct tokens per key, cycled in order: more than the verified-token cache holds, so every one misses. */
const DISTINCT_TOKENS = 1500;

interface Key {
  readonly alg: 'RS256' | 'ES256';
  readonly token: string;
  /** DISTINCT_TOKENS tokens differing by `jti`. */
  readonly tokens: ReadonlyArray<string>;
  readonly jwk: JWK;
}

async function key(alg: Key['alg']): Promise<Key> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: alg, alg };
  const mint = (jti: string): Promise<string> =>
    new SignJWT({ iss: ISSUER, sub: 'bench-user', aud: 'bench', scope: 'read write', jti, exp: Math.floor(Date.now() / 1000) + 3600 })
      .setProtectedHeader({ alg, kid: alg, typ: 'JWT' })
      .sign(pair.privateKey);
  const tokens: string[] = [];
  for (let i = 0; i < DISTINCT_TOKENS; i++) tokens.push(await mint(`t${i}`));
  return { alg, token: tokens[0] ?? '', tokens, jwk };
}

/** Request headers of a typical mesh request (the filter reads and edits a copy of these). */
const BASE_FIELDS = ['host', 'svc.default.svc.cluster.local', 'user-agent', 'bench/1.0', 'accept', '*/*', 'x-request-id', '9b2c0c1e-7a4f-4e3e-9d8b-1a2b3c4d5e6f', 'x-forwarded-proto', 'http'];

interface Row {
  readonly name: string;
  readonly latencyUs: number;
  readonly wallUs: number;
  readonly cpuUs: number;
}

/** The best of ROUNDS rounds of one filter-alone case. */
async function filterRow(name: string, filter: JwtAuthnFilter | undefined, fields: ReadonlyArray<string>, expectIdentity: boolean): Promise<Row> {
  const rounds: Row[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await filterRound(name, filter, fields, expectIdentity));
  const best = (f: (r: Row) => number): number => Math.min(...rounds.map(f));
  return { name, latencyUs: best((r) => r.latencyUs), wallUs: best((r) => r.wallUs), cpuUs: best((r) => r.cpuUs) };
}

/** Filter alone: sequential latency, then `CONCURRENCY` in flight for wall and CPU time per request. */
async function filterRound(name: string, filter: JwtAuthnFilter | undefined, fields: ReadonlyArray<string>, expectIdentity: boolean): Promise<Row> {
  const once = async (): Promise<void> => {
    const ex = { method: 'GET', path: '/api/items?page=2', requestHeaders: new HeaderList([...fields]), requestAuth: undefined as RequestAuth | undefined };
    if (filter === undefined) return;
    const outcome = await filter.onRequestHeaders(ex as unknown as HttpExchange);
    if (outcome !== undefined || (ex.requestAuth !== undefined) !== expectIdentity) throw new Error(`${name}: unexpected outcome ${JSON.stringify(outcome)}`);
  };
  for (let i = 0; i < 2000; i++) await once();
  const seq = Math.max(1000, Math.floor(REQUESTS / 4));
  let t = process.hrtime.bigint();
  for (let i = 0; i < seq; i++) await once();
  const latencyUs = Number(process.hrtime.bigint() - t) / 1000 / seq;
  const cpu = process.cpuUsage();
  t = process.hrtime.bigint();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < REQUESTS) await once();
  }));
  const wallUs = Number(process.hrtime.bigint() - t) / 1000 / REQUESTS;
  const used = process.cpuUsage(cpu);
  return { name, latencyUs, wallUs, cpuUs: (used.user + used.system) / REQUESTS };
}

function providerFilter(keys: ReadonlyArray<Key>, verifiedTokenCacheSize: number): JwtAuthnFilter {
  const rule = jwtRule.parse({ issuer: ISSUER, audiences: ['bench'], jwks: JSON.stringify({ keys: keys.map((k) => k.jwk) }), outputClaimToHeaders: [{ header: 'x-user', claim: 'sub' }] });
  return new JwtAuthnFilter([compileProvider(rule, 'bench')], { resolver: undefined, now: Date.now, verifiedTokenCacheSize });
}

async function filterSection(rs: Key, es: Key): Promise<Row[]> {
  // Token cache off: every request parses the token and checks its signature (the cost of validation).
  const full = providerFilter([rs, es], 0);
  const cached = providerFilter([rs, es], DEFAULT_VERIFIED_TOKEN_CACHE_SIZE);
  return [
    await filterRow('no JWT filter', undefined, BASE_FIELDS, false),
    await filterRow('JWT filter, request without token', full, BASE_FIELDS, false),
    await filterRow('RS256 token (2048-bit key), full verification', full, [...BASE_FIELDS, 'authorization', `Bearer ${rs.token}`], true),
    await filterRow('ES256 token (P-256), full verification', full, [...BASE_FIELDS, 'authorization', `Bearer ${es.token}`], true),
    await filterRow('RS256 token seen before (verified-token cache hit)', cached, [...BASE_FIELDS, 'authorization', `Bearer ${rs.token}`], true),
  ];
}

/** Through a waypoint: same backend, one Service without RequestAuthentication, one with. */
async function httpSection(rs: Key, es: Key): Promise<Row[]> {
  const backend = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '2' });
    res.end('ok');
  });
  backend.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  const port = (backend.address() as AddressInfo).port;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jwt-bench-'));
  const base = `127.78.${Math.floor(Math.random() * 200) + 20}`;
  const svc = (name: string, n: number): string =>
    serviceYaml({ name, namespace: 'bench', vip: `${base}.${n}`, port: 8080, endpoints: [`127.0.0.1:${port}`] });
  writeFileSync(path.join(dir, 'mesh.yaml'), `${meshPreamble('bench')}${svc('plain', 1)}${svc('jwt', 2)}---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: bench}
spec:
  targetRefs: [{kind: Service, group: "", name: jwt}]
  jwtRules:
    - issuer: ${ISSUER}
      audiences: [bench]
      jwks: ${JSON.stringify(JSON.stringify({ keys: [rs.jwk, es.jwk] }))}
`);
  const waypoint = new Waypoint({
    source: new FileSource([dir]), waypoint: undefined, clusterDomain: 'cluster.local', meshConfigFile: undefined,
    adminAddress: { host: '127.0.0.1', port: 0 }, metricsAddress: undefined, hboneAddress: undefined, connectTimeoutMs: 2000,
    log: silentLogger, random: Math.random, observer: undefined,
  });
  await waypoint.start();
  const run = async (name: string, ip: string, headers: (i: number) => Record<string, string>): Promise<Row> => {
    const pool = new Pool(`http://${ip}:8080`, { connections: CONCURRENCY });
    let sent = 0;
    const once = async (): Promise<void> => {
      const res = await pool.request({ path: '/bench', method: 'GET', headers: headers(sent++) });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`${name}: status ${res.statusCode}`);
    };
    for (let i = 0; i < 1000; i++) await once();
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) await once();
    }));
    const wallUs = Number(process.hrtime.bigint() - t) / 1000 / REQUESTS;
    const used = process.cpuUsage(cpu);
    await pool.close();
    return { name, latencyUs: Number.NaN, wallUs, cpuUs: (used.user + used.system) / REQUESTS };
  };
  try {
    return [
      await run('no JWT filter (Service without RequestAuthentication)', `${base}.1`, () => ({})),
      await run('JWT filter, request without token', `${base}.2`, () => ({})),
      await run('RS256, a different token each request (full verification)', `${base}.2`, (i) => ({ authorization: `Bearer ${rs.tokens[i % DISTINCT_TOKENS] ?? ''}` })),
      await run('ES256, a different token each request (full verification)', `${base}.2`, (i) => ({ authorization: `Bearer ${es.tokens[i % DISTINCT_TOKENS] ?? ''}` })),
      await run('RS256, the same token every request (verified-token cache)', `${base}.2`, () => ({ authorization: `Bearer ${rs.token}` })),
    ];
  } finally {
    await waypoint.stop(1000);
    backend.closeAllConnections();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(title: string, rows: ReadonlyArray<Row>, withLatency: boolean): string {
  const f = (n: number): string => (Number.isNaN(n) ? '-' : n.toFixed(1));
  const head = withLatency
    ? '| case | µs/request (one at a time) | µs/request wall (' + CONCURRENCY + ' in flight) | CPU µs/request |\n|---|---|---|---|'
    : '| case | µs/request wall (' + CONCURRENCY + ' in flight) | requests/s | CPU µs/request (whole process) |\n|---|---|---|---|';
  const body = rows.map((r) => (withLatency
    ? `| ${r.name} | ${f(r.latencyUs)} | ${f(r.wallUs)} | ${f(r.cpuUs)} |`
    : `| ${r.name} | ${f(r.wallUs)} | ${Math.round(1e6 / r.wallUs)} | ${f(r.cpuUs)} |`));
  return `\n${title}\n\n${head}\n${body.join('\n')}\n`;
}

async function main(): Promise<void> {
  const [rs, es] = [await key('RS256'), await key('ES256')];
  process.stdout.write(`node ${process.version}, ${os.cpus().length} CPUs, ${REQUESTS} requests per case, keys cached (inline JWKS)\n`);
  process.stdout.write(table('JWT filter alone (request headers phase)', await filterSection(rs, es), true));
  process.stdout.write(table('HTTP/1.1 through the waypoint (client, waypoint and backend in this process)', await httpSection(rs, es), false));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
