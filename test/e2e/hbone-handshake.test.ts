// HBONE handshake policy with real TLS peers: TLS 1.3 only, ALPN h2, a client certificate that chains to
// the trust bundle, is currently valid and names a SPIFFE ID in the trust domain; anything else is refused
// before any HTTP/2 frame. Certificate rotation applies to new handshakes while open tunnels keep working.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import net from 'node:net';
import { after, before, test } from 'node:test';
import type tls from 'node:tls';
import { type Backend, startBackend } from '../harness/backends.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { createPki, type Svid, type TestPki } from '../harness/hbone-certs.js';
import { hboneConnect, openTunnel, probeHandshake, requestThrough, tunnelRequest } from '../harness/hbone-client.js';
import { type HboneMesh, startHboneMesh } from '../harness/hbone-mesh.js';
import { waitFor } from '../harness/mesh.js';

const vip = vipRange();
const HOUR = 3600_000;
let pki: TestPki;
let mesh: HboneMesh;
let web: Backend;
let good: Svid;

before(async () => {
  pki = await createPki();
  good = await pki.issue('spiffe://cluster.local/ns/client/sa/sleep');
  web = await startBackend('web');
  mesh = await startHboneMesh(pki, { 'mesh.yaml': meshPreamble() + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] }) });
});

after(async () => {
  await mesh.close();
  await web.close();
  await pki.close();
});

const cases: ReadonlyArray<{ name: string; options: () => Promise<tls.ConnectionOptions>; outcome: 'accepted' | 'refused'; counted?: string }> = [
  { name: 'valid client certificate', outcome: 'accepted', options: async () => ({ ca: pki.ca.certPem, cert: good.certPem, key: good.keyPem }) },
  {
    name: 'wrong trust domain (signed by the trusted CA)', outcome: 'refused', counted: 'trust_domain',
    options: async () => {
      const s = await pki.issue('spiffe://example.org/ns/client/sa/sleep');
      return { ca: pki.ca.certPem, cert: s.certPem, key: s.keyPem };
    },
  },
  {
    name: 'expired certificate', outcome: 'refused',
    options: async () => {
      const s = await pki.issue('spiffe://cluster.local/ns/client/sa/old', { notBefore: new Date(Date.now() - 3 * HOUR), notAfter: new Date(Date.now() - HOUR) });
      return { ca: pki.ca.certPem, cert: s.certPem, key: s.keyPem };
    },
  },
  {
    name: 'not-yet-valid certificate', outcome: 'refused',
    options: async () => {
      const s = await pki.issue('spiffe://cluster.local/ns/client/sa/future', { notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 3 * HOUR) });
      return { ca: pki.ca.certPem, cert: s.certPem, key: s.keyPem };
    },
  },
  {
    name: 'self-signed / untrusted CA', outcome: 'refused',
    options: async () => {
      const s = await pki.untrusted('spiffe://cluster.local/ns/client/sa/sleep');
      return { ca: pki.ca.certPem, cert: s.certPem, key: s.keyPem };
    },
  },
  { name: 'no client certificate', outcome: 'refused', options: async () => ({ ca: pki.ca.certPem }) },
  { name: 'TLS 1.2', outcome: 'refused', options: async () => ({ ca: pki.ca.certPem, cert: good.certPem, key: good.keyPem, maxVersion: 'TLSv1.2' }) },
  { name: 'ALPN http/1.1 instead of h2', outcome: 'refused', options: async () => ({ ca: pki.ca.certPem, cert: good.certPem, key: good.keyPem, ALPNProtocols: ['http/1.1'] }) },
  { name: 'no ALPN', outcome: 'refused', counted: 'alpn', options: async () => ({ ca: pki.ca.certPem, cert: good.certPem, key: good.keyPem, ALPNProtocols: [] }) },
];

for (const c of cases) {
  test(`handshake: ${c.name} → ${c.outcome}`, async () => {
    const stats = mesh.waypoint.hbone?.server?.stats;
    assert.ok(stats !== undefined);
    const before = stats.handshakesRefused;
    const countedBefore = c.counted === undefined ? 0 : stats.handshakeRefused.get(c.counted) ?? 0;
    const result = await probeHandshake(mesh.hbone.host, mesh.hbone.port, await c.options());
    assert.equal(result.outcome, c.outcome, result.detail);
    if (c.outcome === 'refused') {
      await waitFor(() => stats.handshakesRefused > before);
      if (c.counted !== undefined) assert.equal(stats.handshakeRefused.get(c.counted), countedBefore + 1);
    }
  });
}

test('garbage instead of a ClientHello is refused and the listener keeps serving', async () => {
  const stats = mesh.waypoint.hbone?.server?.stats;
  assert.ok(stats !== undefined);
  const before = stats.handshakesRefused;
  const socket = net.connect(mesh.hbone.port, mesh.hbone.host);
  socket.on('error', () => undefined);
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n' + 'A'.repeat(4096));
  const closed = await new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(true));
    setTimeout(() => resolve(false), 5000).unref();
  });
  assert.ok(closed, 'the connection is closed, not left hanging');
  await waitFor(() => stats.handshakesRefused > before);
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: good, ca: pki.ca });
  assert.equal((await tunnelRequest(session, `${vip(1)}:80`)).status, 200);
  session.close();
});

test('the waypoint presents its SPIFFE identity to clients', async () => {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: good, ca: pki.ca });
  await tunnelRequest(session, `${vip(1)}:80`);
  const san = (session.socket as tls.TLSSocket).getPeerX509Certificate()?.subjectAltName;
  assert.equal(san, 'URI:spiffe://cluster.local/ns/default/sa/waypoint');
  session.close();
});

test('rotation mid-traffic: new handshakes get the new certificate, an open tunnel keeps working', async () => {
  const before = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: good, ca: pki.ca });
  const tunnel = await openTunnel(before, `${vip(1)}:80`);
  assert.equal((await requestThrough(tunnel, { path: '/1', headers: { connection: 'keep-alive' } })).status, 200);
  const oldFingerprint = (before.socket as tls.TLSSocket).getPeerX509Certificate()?.fingerprint256;

  const rotated = await pki.issue('spiffe://cluster.local/ns/default/sa/waypoint');
  await copyFile(rotated.keyFile, mesh.identity.keyFile);
  await copyFile(rotated.certFile, mesh.identity.certFile);
  const expected = new X509Certificate(rotated.certPem).fingerprint256;
  assert.notEqual(expected, oldFingerprint);
  await waitFor(() => mesh.waypoint.hbone?.identity.current.identity.fingerprint === expected, 5000);

  const after = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: good, ca: pki.ca });
  assert.equal((await tunnelRequest(after, `${vip(1)}:80`)).status, 200);
  assert.equal((after.socket as tls.TLSSocket).getPeerX509Certificate()?.fingerprint256, expected);
  // The tunnel opened before the rotation still carries requests.
  assert.equal((await requestThrough(tunnel, { path: '/2', headers: { connection: 'keep-alive' } })).status, 200);
  tunnel.close();
  before.close();
  after.close();
});

test('a rotation to files that do not load keeps the current certificate', async () => {
  const current = mesh.waypoint.hbone?.identity.current.identity.fingerprint;
  const other = await pki.issue('spiffe://cluster.local/ns/default/sa/waypoint');
  // Only the certificate changes: its key no longer matches, so the change is rejected.
  await copyFile(other.certFile, mesh.identity.certFile);
  const applied = await mesh.waypoint.hbone?.identity.reload();
  assert.equal(applied, false);
  assert.equal(mesh.waypoint.hbone?.identity.current.identity.fingerprint, current);
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: good, ca: pki.ca });
  assert.equal((await tunnelRequest(session, `${vip(1)}:80`)).status, 200);
  session.close();
});
