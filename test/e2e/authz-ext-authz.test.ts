// End to end: CUSTOM AuthorizationPolicies against real external authorizers written for the tests, one
// HTTP (test/harness/ext-authz-http.ts) and one gRPC (test/harness/ext-authz-grpc.ts, Envoy's proto),
// with the MeshConfig provider options: headers in and out, path prefix, timeout, failOpen, statusOnError.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Backend, type EchoReply, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { type GrpcExtAuthz, startGrpcExtAuthz } from '../harness/ext-authz-grpc.js';
import { type HttpExtAuthz, startHttpExtAuthz } from '../harness/ext-authz-http.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';
import { type IdentityDoor, identityDoor } from './authz-identity.js';

const vip = vipRange();
const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';
let mesh: TestMesh;
let web: Backend;
let httpAuthz: HttpExtAuthz;
let grpcAuthz: GrpcExtAuthz;
let tcpEcho: net.Server;
const doors: Record<string, IdentityDoor> = {};
const SVC: Record<string, string> = { http: vip(1), grpc: vip(2), down: vip(3), open: vip(4), missing: vip(5), db: vip(6) };

const custom = (name: string, svc: string, provider: string, rules = '[{}]', extra = ''): string =>
  `---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: default${extra}}\nspec:\n  targetRefs: [{kind: Service, group: "", name: ${svc}}]\n  action: CUSTOM\n  provider: {name: ${provider}}\n  rules: ${rules}\n`;

before(async () => {
  web = await startBackend('web');
  httpAuthz = await startHttpExtAuthz();
  grpcAuthz = await startGrpcExtAuthz();
  grpcAuthz.allowedTcpPrincipal = SLEEP;
  tcpEcho = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', () => r()));
  const dead = await unusedPort();
  const meshFile = path.join(await import('node:fs/promises').then((fs) => fs.mkdtemp(path.join(os.tmpdir(), 'authz-mesh-'))), 'mesh.yaml');
  await writeFile(meshFile, `extensionProviders:
- name: http-authz
  envoyExtAuthzHttp:
    service: ext-authz-http.authz.svc.cluster.local
    port: 8000
    pathPrefix: /check
    timeout: 1s
    includeRequestHeadersInCheck: ["x-ext-authz", "x-prefixed-*"]
    includeAdditionalHeadersInCheck: {x-added: "yes"}
    headersToUpstreamOnAllow: ["x-ext-authz-upstream"]
    headersToDownstreamOnAllow: ["x-ext-authz-downstream"]
    headersToDownstreamOnDeny: ["x-ext-authz-check-result", "content-type"]
- name: grpc-authz
  envoyExtAuthzGrpc:
    service: authz/ext-authz-grpc
    port: 9000
    timeout: 2s
- name: down
  envoyExtAuthzHttp: {service: dead.authz.svc.cluster.local, port: 8000, statusOnError: "503", timeout: 1s}
- name: down-open
  envoyExtAuthzGrpc: {service: dead.authz.svc.cluster.local, port: 8000, failOpen: true, timeout: 1s}
`);
  const ep = [`127.0.0.1:${web.port}`];
  const svc = (name: string, extra: Partial<Parameters<typeof serviceYaml>[0]> = {}): string => serviceYaml({ name, vip: SVC[name] ?? '', endpoints: ep, ...extra });
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      svc('http'), svc('grpc'), svc('down'), svc('open'), svc('missing'),
      svc('db', { port: 5432, portName: 'tcp', endpoints: [`127.0.0.1:${(tcpEcho.address() as AddressInfo).port}`] }),
      serviceYaml({ name: 'ext-authz-http', namespace: 'authz', vip: vip(50), port: 8000, endpoints: [`127.0.0.1:${httpAuthz.port}`] }),
      serviceYaml({ name: 'ext-authz-grpc', namespace: 'authz', vip: vip(51), port: 9000, portName: 'grpc', endpoints: [`127.0.0.1:${grpcAuthz.port}`] }),
      serviceYaml({ name: 'dead', namespace: 'authz', vip: vip(52), port: 8000, endpoints: [`127.0.0.1:${dead}`] }),
      custom('http-check', 'http', 'http-authz', '[{to: [{operation: {notPaths: ["/skip"]}}]}]'),
      custom('http-dry', 'http', 'http-authz', '[{to: [{operation: {paths: ["/skip"]}}]}]', ', annotations: {istio.io/dry-run: "true"}'),
      // CUSTOM cannot override DENY: the request must pass both.
      '---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: http-deny, namespace: default}\nspec:\n  targetRefs: [{kind: Service, group: "", name: http}]\n  action: DENY\n  rules: [{to: [{operation: {paths: ["/denied"]}}]}]\n',
      custom('grpc-check', 'grpc', 'grpc-authz'),
      custom('down-check', 'down', 'down'),
      custom('open-check', 'open', 'down-open'),
      custom('missing', 'missing', 'nope'),
      custom('db-check', 'db', 'grpc-authz'),
    ].join('\n'),
  }, { meshConfigFile: meshFile });
  doors['grpc'] = await identityDoor(mesh.waypoint, `${SVC['grpc'] ?? ''}:80`, SLEEP);
  doors['db-sleep'] = await identityDoor(mesh.waypoint, `${SVC['db'] ?? ''}:5432`, SLEEP);
  doors['db-other'] = await identityDoor(mesh.waypoint, `${SVC['db'] ?? ''}:5432`, 'spiffe://cluster.local/ns/bar/sa/other');
});

after(async () => {
  for (const d of Object.values(doors)) await d.close();
  await mesh.close();
  await Promise.all([web.close(), httpAuthz.close(), grpcAuthz.close(), new Promise<void>((r) => tcpEcho.close(() => r()))]);
});

function lastRecord(from: number): { status: number; flag: string | undefined; details: string } | undefined {
  return mesh.records.slice(from).at(-1);
}

test('http provider: allow forwards the allowed headers upstream and downstream, and the check carries what Envoy sends', async () => {
  const n = httpAuthz.checks.length;
  const res = await request(SVC['http'] ?? '', 80, { path: '/api?x=1', headers: { 'x-ext-authz': 'allow', 'x-prefixed-a': '1', 'x-other': 'no', authorization: 'Bearer t', 'x-not-forwarded': 'client' } });
  assert.equal(res.status, 200);
  const echoed = JSON.parse(res.body) as EchoReply;
  assert.equal(echoed.headers['x-ext-authz-upstream'], 'from-http-authz', 'headersToUpstreamOnAllow');
  assert.equal(echoed.headers['x-not-forwarded'], 'client', 'other authorizer headers are not copied upstream');
  assert.equal(res.headers['x-ext-authz-downstream'], 'hello', 'headersToDownstreamOnAllow');
  const check = httpAuthz.checks[n];
  assert.equal(check?.method, 'GET');
  assert.equal(check?.path, '/check/api?x=1', 'pathPrefix + the original path');
  assert.equal(check?.headers['x-ext-authz'], 'allow');
  assert.equal(check?.headers['x-prefixed-a'], '1', 'prefix form of includeRequestHeadersInCheck');
  assert.equal(check?.headers['authorization'], 'Bearer t', 'Authorization is always sent');
  assert.equal(check?.headers['x-added'], 'yes', 'includeAdditionalHeadersInCheck');
  assert.equal(check?.headers['x-other'], undefined, 'headers not listed are not sent');
});

test('http provider: deny returns the authorizer status, body and allowed headers with flag UAEX', async () => {
  const n = mesh.records.length;
  const res = await request(SVC['http'] ?? '', 80, { path: '/api' });
  assert.equal(res.status, 403);
  assert.equal(res.body, 'denied by ext_authz for not found header `x-ext-authz: allow` in the request');
  assert.equal(res.headers['x-ext-authz-check-result'], 'denied');
  assert.equal(res.headers['content-type'], 'text/x-test');
  assert.equal(res.headers['x-secret'], undefined, 'headersToDownstreamOnDeny filters the rest');
  assert.deepEqual(lastRecord(n), { ...lastRecord(n), status: 403, flag: 'UAEX', details: 'ext_authz_denied' });
});

const errorCases: ReadonlyArray<{ name: string; svc: string; headers: Record<string, string>; status: number; flag: string | undefined; details: string }> = [
  { name: 'a 5xx from the authorizer is an error: statusOnError (default 403)', svc: 'http', headers: { 'x-ext-authz': 'error' }, status: 403, flag: 'UAEX', details: 'ext_authz_error' },
  { name: 'the provider timeout is an error', svc: 'http', headers: { 'x-ext-authz': 'slow' }, status: 403, flag: 'UAEX', details: 'ext_authz_error' },
  { name: 'unreachable provider with statusOnError 503', svc: 'down', headers: {}, status: 503, flag: 'UAEX', details: 'ext_authz_error' },
  { name: 'unreachable provider with failOpen: allowed', svc: 'open', headers: {}, status: 200, flag: undefined, details: 'via_upstream' },
  { name: 'unknown provider: the matching rules deny (fail closed)', svc: 'missing', headers: {}, status: 403, flag: undefined, details: 'rbac_access_denied_matched_policy[istio-ext-authz-nope-ns[default]-policy[missing]-rule[0]-deny-due-to-bad-CUSTOM-action]' },
  { name: 'CUSTOM allows but a DENY policy still denies', svc: 'http', headers: { 'x-ext-authz': 'allow' }, status: 403, flag: undefined, details: 'rbac_access_denied_matched_policy[ns[default]-policy[http-deny]-rule[0]]' },
];

for (const c of errorCases) {
  test(`outcome: ${c.name}`, async () => {
    const n = mesh.records.length;
    const res = await request(SVC[c.svc] ?? '', 80, { path: c.name.includes('DENY') ? '/denied' : '/api', headers: c.headers });
    assert.equal(res.status, c.status);
    const rec = lastRecord(n);
    assert.equal(rec?.flag, c.flag);
    assert.equal(rec?.details, c.details);
  });
}

test('http provider: requests no CUSTOM rule matches are not sent to the authorizer (a dry-run rule matching does not call it)', async () => {
  const n = httpAuthz.checks.length;
  const res = await request(SVC['http'] ?? '', 80, { path: '/skip' });
  assert.equal(res.status, 200);
  assert.equal(httpAuthz.checks.length, n);
});

test('grpc provider: allow applies ok_response edits; the CheckRequest carries the peer identity and request', async () => {
  const n = grpcAuthz.checks.length;
  const res = await request('127.0.0.1', doors['grpc']?.port ?? 0, { path: '/g?q=1', method: 'PUT', body: 'abc', headers: { 'x-ext-authz': 'allow', 'x-appended': 'one', 'x-remove-me': 'bye', host: 'grpc.default:80' } });
  assert.equal(res.status, 200);
  const echoed = JSON.parse(res.body) as EchoReply;
  assert.equal(echoed.headers['x-ext-authz-upstream'], 'from-grpc-authz');
  assert.equal(echoed.headers['x-appended'], 'one, two', 'append: true keeps the client value');
  assert.equal(echoed.headers['x-remove-me'], undefined, 'headers_to_remove');
  assert.equal(res.headers['x-ext-authz-downstream'], 'grpc-hello', 'response_headers_to_add');
  const check = grpcAuthz.checks[n];
  assert.equal(check?.source.principal, SLEEP);
  assert.equal(check?.destination.address, SVC['grpc']);
  assert.equal(check?.destination.port, 80);
  assert.equal(check?.http?.method, 'PUT');
  assert.equal(check?.http?.path, '/g?q=1');
  assert.equal(check?.http?.host, 'grpc.default:80');
  assert.equal(check?.http?.headers[':authority'], 'grpc.default:80');
  assert.equal(check?.http?.headers['x-ext-authz'], 'allow');
  assert.match(check?.http?.id ?? '', /^[0-9a-f-]{36}$/, 'x-request-id');
});

test('grpc provider: deny uses denied_response status, headers and body', async () => {
  const n = mesh.records.length;
  const res = await request('127.0.0.1', doors['grpc']?.port ?? 0, { path: '/g' });
  assert.equal(res.status, 401);
  assert.equal(res.body, 'denied by grpc ext_authz');
  assert.equal(res.headers['x-ext-authz-check-result'], 'denied-grpc');
  assert.equal(lastRecord(n)?.flag, 'UAEX');
});

function tcpRoundTrip(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => s.destroy(), 3000);
    s.on('connect', () => s.write('ping'));
    s.on('data', (d) => {
      data += d.toString();
      s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

test('grpc provider on a TCP port: the network check allows the principal it knows and closes the others', async () => {
  const n = grpcAuthz.checks.length;
  assert.equal(await tcpRoundTrip(doors['db-sleep']?.port ?? 0), 'ping');
  assert.equal(await tcpRoundTrip(doors['db-other']?.port ?? 0), '');
  const checks = grpcAuthz.checks.slice(n);
  assert.deepEqual(checks.map((c) => [c.source.principal, c.http === undefined]), [[SLEEP, true], ['spiffe://cluster.local/ns/bar/sa/other', true]]);
});
