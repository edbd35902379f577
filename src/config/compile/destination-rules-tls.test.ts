// DestinationRule tls and connectionPool compile: what each mode needs, files handed in by the pipeline, bad
// input (missing or unparsable files, credentialName, MUTUAL without a certificate, fields a mode forbids)
// rejecting the rule with its field, and the per-port settings that reach the cluster.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../diagnostics.js';
import type { RawResource } from '../resource.js';
import { parseConfigText } from '../source/yaml-documents.js';
import { validateResources } from '../validate/validate.js';
import type { TlsFile } from '../../upstream/tls/tls-files.js';
import { destinationRulePolicies } from './destination-rules.js';

// A self-signed certificate and key generated once for these tests (P-256, CN=t).
const CERT = `-----BEGIN CERTIFICATE-----
MIIBdDCCARugAwIBAgIUcQ6X2pJ9x0Xw3oH6Yy3p0g7r3f0wCgYIKoZIzj0EAwIw
DDEKMAgGA1UEAwwBdDAeFw0yNDAxMDEwMDAwMDBaFw0zNDAxMDEwMDAwMDBaMAwx
CjAIBgNVBAMMAXQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQ=
-----END CERTIFICATE-----
`;

const svc = `apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: apps}\nspec: {ports: [{port: 80}, {port: 90}]}\n---\n`;
const dr = (name: string, tp: string): string => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}, namespace: apps}\nspec:\n  host: a\n  trafficPolicy:\n${tp.split('\n').map((l) => `    ${l}`).join('\n')}\n---\n`;

let realCert = '';
let realKey = '';

async function pems(): Promise<void> {
  if (realCert !== '') return;
  const { createRootCa } = await import('../../security/certs/dev-ca.js');
  const ca = await createRootCa('compile test');
  realCert = ca.certPem;
  realKey = ca.keyPem;
}

function run(text: string, files: Record<string, TlsFile>): { diagnostics: Diagnostic[]; rejected: RawResource[]; policies: ReturnType<typeof destinationRulePolicies> } {
  const parsed = parseConfigText(text, 'dr.yaml', 0);
  assert.deepEqual(parsed.diagnostics, []);
  const v = validateResources(parsed.resources);
  const diagnostics = [...v.diagnostics];
  const rejected: RawResource[] = [...v.rejected];
  const policies = destinationRulePolicies(v.resources, 'cluster.local', diagnostics, { tlsFiles: new Map(Object.entries(files)), rejected });
  return { diagnostics, rejected, policies };
}

const brief = (d: Diagnostic): string => `${d.severity} ${d.code} ${d.path ?? ''}`;

test('SIMPLE and MUTUAL compile with the file contents; port-level tls overrides; SNI defaults to the Service host', async () => {
  await pems();
  const r = run(svc + dr('r', 'tls: {mode: SIMPLE, caCertificates: /ca.pem, subjectAltNames: [x.example]}\nportLevelSettings:\n- port: {number: 90}\n  tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, sni: s.example}'),
    { '/ca.pem': { kind: 'ok', pem: realCert }, '/c.pem': { kind: 'ok', pem: realCert }, '/k.pem': { kind: 'ok', pem: realKey } });
  assert.deepEqual(r.diagnostics.map(brief), ['info tls-origination spec.trafficPolicy.portLevelSettings[0].tls.caCertificates']);
  const t80 = r.policies('apps/a', 80)?.upstream?.tls;
  assert.equal(t80?.mode, 'SIMPLE');
  assert.equal(t80?.sni, 'a.apps.svc.cluster.local');
  assert.equal(t80?.ca, realCert);
  assert.deepEqual(t80?.subjectAltNames, ['x.example']);
  const t90 = r.policies('apps/a', 90)?.upstream?.tls;
  assert.equal(t90?.mode, 'MUTUAL');
  assert.equal(t90?.sni, 's.example');
  assert.equal(t90?.key, realKey);
  assert.notEqual(r.policies('apps/a', 80)?.upstream?.id, r.policies('apps/a', 90)?.upstream?.id);
});

const bad = [
  { name: 'a file that cannot be read', tp: 'tls: {mode: SIMPLE, caCertificates: /gone.pem}', files: { '/gone.pem': { kind: 'unreadable', error: 'no such file' } }, want: 'error tls-origination spec.trafficPolicy.tls.caCertificates' },
  { name: 'a file that is not a certificate', tp: 'tls: {mode: SIMPLE, caCertificates: /junk.pem}', files: { '/junk.pem': { kind: 'ok', pem: 'hello' } }, want: 'error tls-origination spec.trafficPolicy.tls.caCertificates' },
  { name: 'a truncated certificate', tp: 'tls: {mode: SIMPLE, caCertificates: /cut.pem}', files: { '/cut.pem': { kind: 'ok', pem: CERT } }, want: 'error tls-origination spec.trafficPolicy.tls.caCertificates' },
  { name: 'a private key that does not parse', tp: 'tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem}', files: { '/c.pem': 'cert', '/k.pem': { kind: 'ok', pem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' } }, want: 'error tls-origination spec.trafficPolicy.tls.privateKey' },
  { name: 'credentialName (no Secret store)', tp: 'tls: {mode: SIMPLE, credentialName: my-secret}', files: {}, want: 'error tls-origination spec.trafficPolicy.tls.credentialName' },
  { name: 'MUTUAL without a client certificate', tp: 'tls: {mode: MUTUAL, privateKey: /k.pem}', files: {}, want: 'error invalid-field spec.trafficPolicy.tls.clientCertificate' },
  { name: 'MUTUAL without a key', tp: 'tls: {mode: MUTUAL, clientCertificate: /c.pem}', files: {}, want: 'error invalid-field spec.trafficPolicy.tls.privateKey' },
  { name: 'ISTIO_MUTUAL with a certificate file', tp: 'tls: {mode: ISTIO_MUTUAL, caCertificates: /ca.pem}', files: {}, want: 'error invalid-field spec.trafficPolicy.tls.caCertificates' },
  { name: 'credentialName together with files', tp: 'tls: {mode: SIMPLE, credentialName: s, caCertificates: /ca.pem}', files: {}, want: 'error invalid-field spec.trafficPolicy.tls.caCertificates' },
  { name: 'an unknown tls field', tp: 'tls: {mode: SIMPLE, verifyDepth: 3}', files: {}, want: 'error unknown-field spec.trafficPolicy.tls.verifyDepth' },
  { name: 'an unknown mode', tp: 'tls: {mode: STRICT}', files: {}, want: 'error invalid-field spec.trafficPolicy.tls.mode' },
  { name: 'a malformed connectTimeout', tp: 'connectionPool: {tcp: {connectTimeout: soon}}', files: {}, want: 'error invalid-field spec.trafficPolicy.connectionPool.tcp.connectTimeout' },
] as const;

for (const c of bad) {
  test(`bad input: ${c.name} rejects the rule with its field`, async () => {
    await pems();
    const files: Record<string, TlsFile> = {};
    for (const [k, v] of Object.entries(c.files)) files[k] = v === 'cert' ? { kind: 'ok', pem: realCert } : v;
    const r = run(svc + dr('r', c.tp), files);
    assert.ok(r.diagnostics.some((d) => brief(d) === c.want), r.diagnostics.map(brief).join('\n'));
    assert.equal(r.rejected.length, 1, 'the rule is rejected whole (the pipeline keeps its previous version)');
    assert.equal(r.policies('apps/a', 80), undefined, 'nothing of it applies');
  });
}

test('a stale file (read before, unreadable now) still applies, with a warning', async () => {
  await pems();
  const r = run(svc + dr('r', 'tls: {mode: SIMPLE, caCertificates: /ca.pem}'), { '/ca.pem': { kind: 'stale', pem: realCert, error: 'no such file' } });
  assert.deepEqual(r.diagnostics.map(brief), ['warning tls-origination spec.trafficPolicy.tls.caCertificates']);
  assert.equal(r.policies('apps/a', 80)?.upstream?.tls?.ca, realCert);
});

test('connectionPool compiles to pool settings; fields that cannot apply are reported', () => {
  const r = run(svc + dr('r', 'connectionPool:\n  tcp: {maxConnections: 4, connectTimeout: 1.5s, tcpKeepalive: {time: 30s, probes: 3}, maxConnectionDuration: 1h}\n  http: {http1MaxPendingRequests: 2, maxRequestsPerConnection: 1, maxRetries: 0, idleTimeout: 0s, h2UpgradePolicy: UPGRADE, maxConcurrentStreams: 9}'), {});
  assert.deepEqual(r.diagnostics.map(brief), [
    'warning not-yet-applied spec.trafficPolicy.connectionPool.tcp.maxConnectionDuration',
    'warning not-yet-applied spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.probes',
  ]);
  assert.deepEqual(r.policies('apps/a', 80)?.upstream?.pool, {
    maxConnections: 4, connectTimeoutMs: 1500, keepaliveTimeMs: 30_000, idleTimeoutMs: 3_600_000, maxRequestsPerConnection: 1,
    maxPendingRequests: 2, maxRetries: 0, maxConcurrentStreams: 9, protocol: 'upgrade-h2',
  });
});

test('TLS origination on a TCP port is reported as not applied there (L4 proxying sends connections as they came)', async () => {
  await pems();
  const tcpSvc = `apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: apps}\nspec: {ports: [{port: 5432, name: tcp-db}, {port: 80, name: http}]}\n---\n`;
  const r = run(tcpSvc + dr('r', 'tls: {mode: SIMPLE, insecureSkipVerify: true}'), {});
  assert.ok(r.policies('apps/a', 5432)?.upstream?.tls !== undefined);
  assert.ok(r.policies('apps/a', 80)?.upstream?.tls !== undefined);
  const l4 = r.diagnostics.filter((d) => d.code === 'not-yet-applied');
  assert.equal(l4.length, 1, 'only the TCP port is reported');
  assert.match(l4[0]?.message ?? '', /port 5432 is TCP \(L4\)/);
});
