// End to end over real HBONE (mTLS + HTTP/2 CONNECT, as ztunnel sends it): source_* labels come from the
// peer certificate and the CONNECT `baggage`; connection_security_policy is mutual_tls; a huge or malformed
// baggage is ignored, never trusted (the identity from the certificate still counts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { createPki, type Svid, type TestPki } from '../harness/hbone-certs.js';
import { hboneConnect, tunnelRequest } from '../harness/hbone-client.js';
import { type HboneMesh, startHboneMesh } from '../harness/hbone-mesh.js';
import { sampleValue } from './observability-mesh.js';

const vip = vipRange();
let pki: TestPki;
let mesh: HboneMesh;
let web: Backend;
let sleep: Svid;

before(async () => {
  pki = await createPki();
  sleep = await pki.issue('spiffe://cluster.local/ns/client/sa/sleep');
  web = await startBackend('web');
  mesh = await startHboneMesh(pki, { 'mesh.yaml': meshPreamble() + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] }) });
});

after(async () => {
  await mesh.close();
  await web.close();
  await pki.close();
});

async function scrapeAdmin(): Promise<string> {
  return (await fetch(`http://${mesh.waypoint.adminAddress}/stats/prometheus`)).text();
}

async function through(baggage: string | undefined, path: string): Promise<void> {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: sleep, ca: pki.ca });
  try {
    const res = await tunnelRequest(session, `${vip(1)}:80`, { path, ...(baggage === undefined ? {} : { connectHeaders: { baggage } }) });
    assert.equal(res.status, 200);
  } finally {
    session.close();
  }
}

test('source labels from the peer identity and the CONNECT baggage; mutual_tls', async () => {
  await through('k8s.cluster.name=east,k8s.namespace.name=ignored,k8s.deployment.name=sleep-v1,service.name=sleep,service.version=v1,app.name=sleep,app.version=v1', '/a');
  const text = await scrapeAdmin();
  assert.equal(sampleValue(text, 'istio_requests_total', {
    reporter: 'waypoint', source_workload: 'sleep-v1', source_canonical_service: 'sleep', source_canonical_revision: 'v1',
    // The namespace comes from the certificate's SAN before baggage.
    source_workload_namespace: 'client', source_principal: 'spiffe://cluster.local/ns/client/sa/sleep', source_app: 'sleep', source_version: 'v1',
    source_cluster: 'east', destination_service_name: 'web', response_code: '200', connection_security_policy: 'mutual_tls',
  }), 1);
});

const bad: ReadonlyArray<{ name: string; baggage: string }> = [
  { name: 'huge', baggage: `k8s.deployment.name=huge,service.name=huge,pad=${'x'.repeat(9000)}` },
  { name: 'malformed', baggage: 'k8s.deployment.name=bad,this-is-not-a-member' },
  { name: 'unsafe value', baggage: 'k8s.deployment.name=a"b,service.name=x' },
];
for (const c of bad) {
  test(`a ${c.name} baggage is ignored: only the certificate identity labels the source`, async () => {
    await through(c.baggage, `/${c.name.replace(' ', '-')}`);
    const text = await scrapeAdmin();
    assert.ok(!text.includes('huge') && !text.includes('source_workload="bad"') && !text.includes('a\\"b'));
    assert.ok((sampleValue(text, 'istio_requests_total', {
      source_workload: 'unknown', source_canonical_service: 'unknown', source_canonical_revision: 'latest', source_workload_namespace: 'client',
      source_principal: 'spiffe://cluster.local/ns/client/sa/sleep', source_cluster: 'unknown', connection_security_policy: 'mutual_tls',
    }) ?? 0) >= 1);
  });
}
