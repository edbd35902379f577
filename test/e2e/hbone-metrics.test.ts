// HBONE tunnel metrics on /stats/prometheus, scraped from the admin port while real peers use the tunnels:
// connections opened/closed/active and CONNECT streams per direction, CONNECT responses by status (answered
// inbound, received outbound), handshake refusals by reason, and TLS bytes both ways.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { createPki, type TestPki } from '../harness/hbone-certs.js';
import { hboneConnect, openTunnel, probeHandshake, tunnelRequest } from '../harness/hbone-client.js';
import { type HboneDestination, startHboneDestination } from '../harness/hbone-destination.js';
import { type HboneMesh, startHboneMesh } from '../harness/hbone-mesh.js';
import { waitFor } from '../harness/mesh.js';

const vip = vipRange();
let pki: TestPki;
let mesh: HboneMesh;
let web: Backend;
let pod: Backend;
let dest: HboneDestination;
let denying: HboneDestination;

function ambientService(name: string, svcIp: string, podIp: string, port: number): string {
  return `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: apps, labels: { istio.io/use-waypoint: waypoint, istio.io/use-waypoint-namespace: default } }
spec: { clusterIP: ${svcIp}, ports: [{ name: http, port: 80, targetPort: ${port} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: apps, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: http, port: ${port} }]
endpoints: [{ addresses: ["${podIp}"] }]
`;
}

before(async () => {
  pki = await createPki();
  web = await startBackend('web');
  pod = await startBackend('pod', undefined, vip(10));
  dest = await startHboneDestination(vip(10), 0, await pki.issue('spiffe://cluster.local/ns/apps/sa/default'), pki.ca.certPem);
  denying = await startHboneDestination(vip(11), dest.port, await pki.issue('spiffe://cluster.local/ns/apps/sa/db'), pki.ca.certPem, () => false);
  const yaml = meshPreamble() + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] })
    + '---\napiVersion: v1\nkind: Namespace\nmetadata: { name: apps, labels: { istio.io/dataplane-mode: ambient } }\n'
    + ambientService('pod', vip(2), vip(10), pod.port) + ambientService('locked', vip(3), vip(11), pod.port);
  mesh = await startHboneMesh(pki, { 'mesh.yaml': yaml }, { upstreamPort: dest.port });
});

after(async () => {
  await mesh.close();
  await Promise.all([dest.close(), denying.close()]);
  await Promise.all([web.close(), pod.close()]);
  await pki.close();
});

async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${mesh.waypoint.adminAddress}/stats/prometheus`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('waypoint_hbone_')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

const delta = (after: Map<string, number>, before: Map<string, number>, key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);

test('inbound: tunnel connections, CONNECT streams and responses by status, bytes', async () => {
  const before = await scrape();
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: await pki.issue('spiffe://cluster.local/ns/client/sa/sleep'), ca: pki.ca });
  for (let i = 0; i < 3; i++) assert.equal((await tunnelRequest(session, `${vip(1)}:80`, { method: 'POST', path: `/m${i}`, body: 'x'.repeat(1000) })).status, 200);
  await openTunnel(session, `${vip(99)}:80`).catch(() => undefined);
  await openTunnel(session, 'not-an-ip:80').catch(() => undefined);
  const open = await scrape();
  assert.equal(delta(open, before, 'waypoint_hbone_tunnels_opened_total{direction="inbound"}'), 1);
  assert.equal(open.get('waypoint_hbone_tunnels_active{direction="inbound"}'), (before.get('waypoint_hbone_tunnels_active{direction="inbound"}') ?? 0) + 1);
  assert.equal(delta(open, before, 'waypoint_hbone_streams_opened_total{direction="inbound"}'), 3);
  assert.equal(delta(open, before, 'waypoint_hbone_connect_responses_total{direction="inbound",status="200"}'), 3);
  assert.equal(delta(open, before, 'waypoint_hbone_connect_responses_total{direction="inbound",status="404"}'), 1);
  assert.equal(delta(open, before, 'waypoint_hbone_connect_responses_total{direction="inbound",status="400"}'), 1);
  assert.ok(delta(open, before, 'waypoint_hbone_received_bytes_total{direction="inbound"}') > 3000, 'request bodies counted while the connection is open');
  assert.ok(delta(open, before, 'waypoint_hbone_sent_bytes_total{direction="inbound"}') > 0);
  session.close();
  await waitFor(() => mesh.waypoint.hbone?.server?.openSessions === 0);
  const closed = await scrape();
  assert.equal(delta(closed, before, 'waypoint_hbone_tunnels_closed_total{direction="inbound"}'), 1);
  assert.equal(closed.get('waypoint_hbone_tunnels_active{direction="inbound"}'), before.get('waypoint_hbone_tunnels_active{direction="inbound"}') ?? 0);
  assert.equal(closed.get('waypoint_hbone_streams_active{direction="inbound"}'), 0);
  // Bytes of a closed connection stay counted.
  assert.ok(delta(closed, before, 'waypoint_hbone_received_bytes_total{direction="inbound"}') >= delta(open, before, 'waypoint_hbone_received_bytes_total{direction="inbound"}'));
});

test('inbound: refused handshakes are counted by reason', async () => {
  const before = await scrape();
  const s = await pki.issue('spiffe://example.org/ns/client/sa/sleep');
  assert.equal((await probeHandshake(mesh.hbone.host, mesh.hbone.port, { ca: pki.ca.certPem, cert: s.certPem, key: s.keyPem })).outcome, 'refused');
  const untrusted = await pki.untrusted('spiffe://cluster.local/ns/client/sa/sleep');
  assert.equal((await probeHandshake(mesh.hbone.host, mesh.hbone.port, { ca: pki.ca.certPem, cert: untrusted.certPem, key: untrusted.keyPem })).outcome, 'refused');
  const refusedSince = (now: Map<string, number>): number =>
    [...now.keys()].filter((k) => k.startsWith('waypoint_hbone_handshakes_refused_total{direction="inbound"')).reduce((n, k) => n + delta(now, before, k), 0);
  // The server counts a refusal when it sees the failed handshake, which can trail the client's view.
  let after = await scrape();
  for (let i = 0; i < 100 && refusedSince(after) < 2; i++) {
    await new Promise((r) => setTimeout(r, 20));
    after = await scrape();
  }
  assert.equal(delta(after, before, 'waypoint_hbone_handshakes_refused_total{direction="inbound",reason="trust_domain"}'), 1);
  assert.equal(refusedSince(after), 2);
});

test('outbound: tunnels to ambient pods, CONNECT responses from destinations, bytes', async () => {
  const before = await scrape();
  for (let i = 0; i < 3; i++) assert.equal((await request(vip(2), 80, { path: `/o${i}` })).status, 200);
  assert.equal((await request(vip(3), 80, { path: '/denied' })).status, 503);
  const after = await scrape();
  assert.ok(delta(after, before, 'waypoint_hbone_tunnels_opened_total{direction="outbound"}') >= 2, 'one tunnel to each destination');
  assert.ok(delta(after, before, 'waypoint_hbone_connect_responses_total{direction="outbound",status="200"}') >= 1);
  // Istio's default retries try the refusing destination three times.
  assert.equal(delta(after, before, 'waypoint_hbone_connect_responses_total{direction="outbound",status="401"}'), 3);
  assert.ok((after.get('waypoint_hbone_tunnels_active{direction="outbound"}') ?? 0) >= 1);
  assert.ok(delta(after, before, 'waypoint_hbone_sent_bytes_total{direction="outbound"}') > 0);
  assert.ok(delta(after, before, 'waypoint_hbone_received_bytes_total{direction="outbound"}') > 0);
});

test('outbound: a destination with the wrong identity counts as a refused handshake, not a CONNECT response', async () => {
  await mesh.write('mesh.yaml', meshPreamble() + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] })
    + '---\napiVersion: v1\nkind: Namespace\nmetadata: { name: apps, labels: { istio.io/dataplane-mode: ambient } }\n'
    + ambientService('pod', vip(2), vip(10), pod.port)
    + '---\napiVersion: v1\nkind: Pod\nmetadata: { name: impostor-0, namespace: apps }\nspec: { serviceAccountName: api, containers: [{ name: a, image: x }] }\n'
    + `---\napiVersion: v1\nkind: Service\nmetadata: { name: api, namespace: apps, labels: { istio.io/use-waypoint: waypoint, istio.io/use-waypoint-namespace: default } }\nspec: { clusterIP: ${vip(4)}, ports: [{ name: http, port: 80 }] }\n`
    + `---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: api-1, namespace: apps, labels: { kubernetes.io/service-name: api } }\naddressType: IPv4\nports: [{ name: http, port: ${pod.port} }]\nendpoints: [{ addresses: ["${vip(11)}"], targetRef: { kind: Pod, name: impostor-0, namespace: apps } }]\n`);
  const before = await scrape();
  assert.equal((await request(vip(4), 80, { path: '/impostor' })).status, 503);
  const after = await scrape();
  assert.ok(delta(after, before, 'waypoint_hbone_handshakes_refused_total{direction="outbound",reason="peer_identity"}') >= 1);
  assert.ok(delta(after, before, 'waypoint_hbone_connect_failures_total{direction="outbound"}') >= 1);
});
