// End to end: DestinationRule `tls` origination against real TLS backends. SIMPLE verifies the server against
// caCertificates and sends the configured SNI; a wrong CA or a SAN mismatch is Envoy's 503 `UF` with the TLS
// failure reason; MUTUAL presents the client certificate a backend requires; HTTP/2 ports negotiate ALPN h2;
// a missing file rejects the rule (the Service keeps its previous behaviour) and is reported with its field.
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';
import { createRootCa, issueLeaf, writePems } from './destination-rule-tls-pki.js';

const vip = vipRange();
let mesh: TestMesh;
let dir: string;
let files: Record<string, string>;
let plain: Backend;
const servers: Array<https.Server | http2.Http2SecureServer> = [];

interface Seen { readonly sni: string | false | null; readonly alpn: string | false | null; readonly client: string | undefined }

/** What the TLS backend saw of the connection, as JSON. */
function describe(socket: TLSSocket): Seen {
  const peer = socket.getPeerCertificate();
  return { sni: socket.servername, alpn: socket.alpnProtocol, client: peer.subjectaltname };
}

async function listen(server: https.Server | http2.Http2SecureServer): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function drYaml(name: string, tls: string, port = 80): string {
  return `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: default}
spec:
  host: ${name}
  trafficPolicy:
    portLevelSettings:
      - port: {number: ${port}}
        tls:
${tls.trim().split('\n').map((l) => `          ${l.trim()}`).join('\n')}
`;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-dr-tls-'));
  const ca = await createRootCa('dr-tls test CA');
  const otherCa = await createRootCa('unrelated CA');
  const server = await issueLeaf(ca, { dns: ['backend.example.com'], ip: ['127.0.0.1'] });
  const client = await issueLeaf(ca, { dns: ['client.example.com'] });
  files = await writePems(dir, {
    'ca.pem': ca.certPem, 'other-ca.pem': otherCa.certPem, 'client.pem': client.certPem, 'client-key.pem': client.keyPem,
    'stale-ca.pem': ca.certPem,
  });
  const answer = (req: { socket: unknown }, res: { writeHead(s: number, h: Record<string, string>): unknown; end(b: string): void }): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(describe(req.socket as TLSSocket)));
  };
  const simplePort = await listen(https.createServer({ cert: server.certPem, key: server.keyPem }, answer));
  const mutualPort = await listen(https.createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, answer));
  const h2Port = await listen(http2.createSecureServer({ cert: server.certPem, key: server.keyPem }, answer));
  plain = await startBackend('plain');
  const ep = (p: number): string[] => [`127.0.0.1:${p}`];
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'simple', vip: vip(1), endpoints: ep(simplePort) }),
      drYaml('simple', `mode: SIMPLE\ncaCertificates: ${files['ca.pem']}\nsni: backend.example.com`),
      serviceYaml({ name: 'wrong-ca', vip: vip(2), endpoints: ep(simplePort) }),
      drYaml('wrong-ca', `mode: SIMPLE\ncaCertificates: ${files['other-ca.pem']}\nsni: backend.example.com`),
      serviceYaml({ name: 'san-mismatch', vip: vip(3), endpoints: ep(simplePort) }),
      drYaml('san-mismatch', `mode: SIMPLE\ncaCertificates: ${files['ca.pem']}\nsni: backend.example.com\nsubjectAltNames: [other.example.com]`),
      serviceYaml({ name: 'san-match', vip: vip(4), endpoints: ep(simplePort) }),
      drYaml('san-match', `mode: SIMPLE\ncaCertificates: ${files['ca.pem']}\nsni: name.example.org\nsubjectAltNames: [spiffe://x/y, backend.example.com]`),
      serviceYaml({ name: 'mutual', vip: vip(5), endpoints: ep(mutualPort) }),
      drYaml('mutual', `mode: MUTUAL\ncaCertificates: ${files['ca.pem']}\nclientCertificate: ${files['client.pem']}\nprivateKey: ${files['client-key.pem']}\nsni: backend.example.com`),
      serviceYaml({ name: 'no-client-cert', vip: vip(6), endpoints: ep(mutualPort) }),
      drYaml('no-client-cert', `mode: SIMPLE\ncaCertificates: ${files['ca.pem']}\nsni: backend.example.com`),
      serviceYaml({ name: 'insecure', vip: vip(7), endpoints: ep(simplePort) }),
      drYaml('insecure', 'mode: SIMPLE\ninsecureSkipVerify: true'),
      serviceYaml({ name: 'grpcish', vip: vip(8), endpoints: ep(h2Port), portName: 'http2' }),
      drYaml('grpcish', `mode: SIMPLE\ncaCertificates: ${files['ca.pem']}\nsni: backend.example.com`),
      serviceYaml({ name: 'missing-file', vip: vip(9), endpoints: [`127.0.0.1:${plain.port}`] }),
      drYaml('missing-file', `mode: SIMPLE\ncaCertificates: ${path.join(dir, 'does-not-exist.pem')}`),
      serviceYaml({ name: 'stale', vip: vip(10), endpoints: ep(simplePort) }),
      drYaml('stale', `mode: SIMPLE\ncaCertificates: ${files['stale-ca.pem']}\nsni: backend.example.com`),
    ].join(''),
  });
});

after(async () => {
  await mesh.close();
  await plain.close();
  for (const s of servers) {
    if ('closeAllConnections' in s) s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await rm(dir, { recursive: true, force: true });
});

const seen = async (n: number): Promise<Seen> => {
  const res = await request(vip(n), 80, { path: '/' });
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as Seen;
};

test('SIMPLE: the server is verified against caCertificates and sees the configured SNI', async () => {
  const s = await seen(1);
  assert.equal(s.sni, 'backend.example.com');
  assert.equal(s.alpn, 'http/1.1');
  assert.equal(s.client, undefined, 'no client certificate in SIMPLE mode');
});

const TLS_VERIFY = 'TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED';
const failures = [
  { name: 'a certificate from another CA', n: 2 },
  { name: 'subjectAltNames that the certificate does not carry', n: 3 },
];
for (const c of failures) {
  test(`SIMPLE: ${c.name} is 503 UF with Envoy's TLS failure reason`, async () => {
    const res = await request(vip(c.n), 80, { path: '/' });
    assert.equal(res.status, 503);
    // Istio's default retries (connect-failure) run first, so Envoy's "retried" wording and URX.
    assert.equal(res.body, `upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection failure, transport failure reason: ${TLS_VERIFY}`);
    const record = mesh.records.findLast((r) => r.cluster?.includes(`|${c.n === 2 ? 'wrong-ca' : 'san-mismatch'}.`));
    assert.equal(record?.flag, 'UF,URX');
    assert.equal(record?.details, `upstream_reset_before_response_started{connection_failure,${TLS_VERIFY.replace(/\s/g, '_')}}`);
  });
}

test('SIMPLE: subjectAltNames accept a certificate carrying one of them, whatever the SNI', async () => {
  assert.equal((await seen(4)).sni, 'name.example.org');
});

test('MUTUAL: the client certificate is presented to a backend that requires one', async () => {
  const s = await seen(5);
  assert.equal(s.client, 'DNS:client.example.com');
  const refused = await request(vip(6), 80, { path: '/' });
  assert.equal(refused.status, 503, 'without a client certificate the backend refuses the connection');
  assert.match(refused.body, /^upstream connect error or disconnect\/reset before headers\./);
});

test('insecureSkipVerify: no verification; the SNI defaults to the Service hostname', async () => {
  assert.equal((await seen(7)).sni, 'insecure.default.svc.cluster.local');
});

test('HTTP/2 port: TLS with ALPN h2', async () => {
  const s = await seen(8);
  assert.equal(s.alpn, 'h2');
  assert.equal(s.sni, 'backend.example.com');
});

interface Dump { latestDiagnostics: Array<{ severity: string; resource?: string; path?: string; message: string; line?: number }>; clusters: Array<{ id: string; tls?: unknown }> }
const dump = async (): Promise<Dump> => {
  const [host, port] = mesh.admin.split(':');
  return JSON.parse((await request(host ?? '127.0.0.1', Number(port), { path: '/config_dump' })).body) as Dump;
};

test('a missing TLS file rejects the rule with its resource and field; the Service keeps its previous (plain) behaviour', async () => {
  const res = await request(vip(9), 80, { path: '/' });
  assert.equal(res.status, 200, 'no rule applied: plain HTTP to the plain backend');
  const d = (await dump()).latestDiagnostics.find((x) => x.resource === 'DestinationRule default/missing-file');
  assert.equal(d?.severity, 'error');
  assert.equal(d?.path, 'spec.trafficPolicy.portLevelSettings[0].tls.caCertificates');
  assert.match(d?.message ?? '', /does-not-exist\.pem" cannot be read \(no such file\)/);
  assert.ok(typeof d?.line === 'number');
});

test('a TLS file deleted after it was loaded keeps its contents (reported as stale)', async () => {
  assert.equal((await seen(10)).sni, 'backend.example.com');
  await unlink(files['stale-ca.pem'] ?? '');
  await mesh.waypoint.reload();
  assert.equal((await seen(10)).sni, 'backend.example.com');
  const d = (await dump()).latestDiagnostics.find((x) => x.resource === 'DestinationRule default/stale');
  assert.equal(d?.severity, 'warning');
  assert.match(d?.message ?? '', /cannot be read any more/);
});

test('/config_dump shows the origination (mode, SNI, files), never the key material', async () => {
  const c = (await dump()).clusters.find((x) => x.id.endsWith('|mutual.default.svc.cluster.local'));
  const text = JSON.stringify(c?.tls);
  assert.match(text, /"mode":"MUTUAL"/);
  assert.match(text, /"sni":"backend.example.com"/);
  assert.ok(text.includes('client-key.pem'));
  assert.ok(!text.includes('PRIVATE KEY'));
});
