// Workload-addressed HBONE traffic end to end: a CONNECT whose `:authority` is a Pod's own ip:port, for Pods
// that use this waypoint (Namespace or Pod `istio.io/use-waypoint`) when the Gateway accepts workload traffic
// (`istio.io/waypoint-for: all`). As Istio's "direct pod access" chains: the backend is that very endpoint,
// waypoint-wide policies apply, Service routes and Service-targeted policies do not; unknown destinations
// are answered with an error status.
import assert from 'node:assert/strict';
import type { ClientHttp2Session } from 'node:http2';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { vipRange } from '../harness/config.js';
import { createPki, type TestPki } from '../harness/hbone-certs.js';
import { hboneConnect, openTunnel, tunnelRequest } from '../harness/hbone-client.js';
import { type HboneDestination, startHboneDestination } from '../harness/hbone-destination.js';
import { type HboneMesh, startHboneMesh } from '../harness/hbone-mesh.js';

const vip = vipRange();
const WAYPOINT_ID = 'spiffe://cluster.local/ns/default/sa/waypoint';
let pki: TestPki;
let mesh: HboneMesh;
let session: ClientHttp2Session;
let web0: Backend; // Pod web-0 of Service web, on its pod IP
let web1: Backend; // Pod web-1 of Service web, opted out of the waypoint for workload traffic
let other: Backend; // Service other: where the HTTPRoute on web sends Service-addressed traffic
let ambient: Backend; // an ambient Pod's app, behind an HBONE destination
let lonely: Backend; // a Pod no Service selects, known by status.podIP and its container port
let dest: HboneDestination;

const gateway = (waypointFor: string): string => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: waypoint, namespace: default, labels: { istio.io/waypoint-for: ${waypointFor} } }
spec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }
`;

function pod(name: string, ns: string, ip: string, labels = '', ports: ReadonlyArray<number> = []): string {
  const containerPorts = ports.length === 0 ? '' : `, ports: [${ports.map((p) => `{ containerPort: ${p} }`).join(', ')}]`;
  return `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns}${labels === '' ? '' : `, labels: { ${labels} }`} }
spec: { serviceAccountName: web, containers: [{ name: app, image: example${containerPorts} }] }
status: { podIP: "${ip}", podIPs: [{ ip: "${ip}" }] }
`;
}

function service(name: string, ns: string, ip: string): string {
  return `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${ns} }
spec: { clusterIP: ${ip}, ports: [{ name: http, port: 80, targetPort: 8080 }] }
`;
}

function slice(name: string, ns: string, svc: string, ip: string, port: number, podName: string | undefined): string {
  const ref = podName === undefined ? '' : `, targetRef: { kind: Pod, name: ${podName}, namespace: ${ns} }`;
  return `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}, namespace: ${ns}, labels: { kubernetes.io/service-name: ${svc} } }
addressType: IPv4
ports: [{ name: http, port: ${port} }]
endpoints: [{ addresses: ["${ip}"]${ref} }]
`;
}

const policy = (name: string, target: string, path: string): string => `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: ${target.startsWith('Gateway') ? 'default' : 'apps'} }
spec:
  targetRefs: [${target.startsWith('Gateway') ? '{ kind: Gateway, group: gateway.networking.k8s.io, name: waypoint }' : `{ kind: Service, group: "", name: ${target.slice(8)} }`}]
  action: DENY
  rules: [{ to: [{ operation: { paths: ["${path}"] } }] }]
`;

function config(waypointFor: string): string {
  return gateway(waypointFor) + `---
apiVersion: v1
kind: Namespace
metadata: { name: apps, labels: { istio.io/use-waypoint: waypoint, istio.io/use-waypoint-namespace: default } }
---
apiVersion: v1
kind: Namespace
metadata: { name: amb, labels: { istio.io/use-waypoint: waypoint, istio.io/use-waypoint-namespace: default, istio.io/dataplane-mode: ambient } }
` + service('web', 'apps', vip(1)) + pod('web-0', 'apps', vip(10)) + pod('web-1', 'apps', vip(11), 'istio.io/use-waypoint: none')
    + slice('web-a', 'apps', 'web', vip(10), web0.port, 'web-0') + slice('web-b', 'apps', 'web', vip(11), web1.port, 'web-1')
    + service('other', 'apps', vip(2)) + slice('other-a', 'apps', 'other', '127.0.0.1', other.port, undefined)
    + service('amb-web', 'amb', vip(3)) + pod('amb-0', 'amb', vip(12)) + slice('amb-a', 'amb', 'amb-web', vip(12), ambient.port, 'amb-0')
    + pod('lonely-0', 'apps', vip(13), '', [lonely.port])
    + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web-to-other, namespace: apps }
spec:
  parentRefs: [{ group: "", kind: Service, name: web, port: 80 }]
  rules: [{ backendRefs: [{ name: other, port: 80 }] }]
` + policy('gw-deny', 'Gateway', '/gateway-deny') + policy('web-deny', 'Service/web', '/service-deny');
}

before(async () => {
  pki = await createPki();
  web0 = await startBackend('web-0', undefined, vip(10));
  web1 = await startBackend('web-1', undefined, vip(11));
  other = await startBackend('other');
  ambient = await startBackend('amb-0', undefined, vip(12));
  lonely = await startBackend('lonely-0', undefined, vip(13));
  dest = await startHboneDestination(vip(12), 0, await pki.issue('spiffe://cluster.local/ns/amb/sa/web'), pki.ca.certPem, (peer) => peer === WAYPOINT_ID);
  mesh = await startHboneMesh(pki, { 'mesh.yaml': config('all') }, { upstreamPort: dest.port });
  session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: await pki.issue('spiffe://cluster.local/ns/client/sa/sleep'), ca: pki.ca });
});

after(async () => {
  session.close();
  await mesh.close();
  await dest.close();
  await Promise.all([web0.close(), web1.close(), other.close(), ambient.close(), lonely.close()]);
  await pki.close();
});

const backendOf = (body: string): string => (JSON.parse(body) as { backend: string }).backend;

test('a CONNECT to a Pod ip:port reaches that very Pod every time; the Service VIP follows its HTTPRoute', async () => {
  for (let i = 0; i < 10; i++) {
    const res = await tunnelRequest(session, `${vip(10)}:${web0.port}`, { path: `/direct/${i}` });
    assert.equal(res.status, 200);
    assert.equal(backendOf(res.body), 'web-0');
  }
  assert.equal(mesh.records.at(-1)?.upstreamHost, `${vip(10)}:${web0.port}`);
  assert.equal(mesh.records.at(-1)?.conn.peerPrincipal, 'spiffe://cluster.local/ns/client/sa/sleep');
  // Istio applies no Service route to direct pod access ("Policy binding via VIP+Host is inapplicable").
  const viaVip = await tunnelRequest(session, `${vip(1)}:80`, { path: '/via-service' });
  assert.equal(backendOf(viaVip.body), 'other');
});

test('waypoint-wide AuthorizationPolicies apply to workload-addressed requests; Service-targeted ones do not (as Istio)', async () => {
  const denied = await tunnelRequest(session, `${vip(10)}:${web0.port}`, { path: '/gateway-deny' });
  assert.equal(denied.status, 403);
  assert.equal(denied.body, 'RBAC: access denied');
  const serviceOnly = await tunnelRequest(session, `${vip(10)}:${web0.port}`, { path: '/service-deny' });
  assert.equal(serviceOnly.status, 200);
  assert.equal(backendOf(serviceOnly.body), 'web-0');
  // The same Service-targeted policy does apply to Service-addressed traffic.
  assert.equal((await tunnelRequest(session, `${vip(1)}:80`, { path: '/service-deny' })).status, 403);
  assert.equal((await request(vip(1), 80, { path: '/gateway-deny' })).status, 403);
});

test('an ambient Pod addressed directly is reached through HBONE as the waypoint, CONNECT to its own ip:port', async () => {
  const res = await tunnelRequest(session, `${vip(12)}:${ambient.port}`, { path: '/ambient' });
  assert.equal(res.status, 200);
  assert.equal(backendOf(res.body), 'amb-0');
  assert.equal(dest.peers.at(-1), WAYPOINT_ID);
  assert.equal(dest.authorities.at(-1), `${vip(12)}:${ambient.port}`);
});

test('a Pod no Service selects is served on its status.podIP and container ports', async () => {
  const res = await tunnelRequest(session, `${vip(13)}:${lonely.port}`, { path: '/alone' });
  assert.equal(backendOf(res.body), 'lonely-0');
});

const refusals: ReadonlyArray<{ name: string; authority: () => string }> = [
  { name: 'an IP the waypoint knows nothing of', authority: () => `${vip(99)}:8080` },
  { name: 'a Pod that opted out with istio.io/use-waypoint: none', authority: () => `${vip(11)}:${web1.port}` },
  { name: 'a port the Pod does not expose', authority: () => `${vip(10)}:1` },
];
for (const c of refusals) {
  test(`CONNECT to ${c.name} is answered 404 at once`, async () => {
    const err = await openTunnel(session, c.authority()).then(() => undefined, (e: unknown) => e as Error & { status?: number });
    assert.equal(err?.status, 404);
    assert.match(err?.message ?? '', /^CONNECT answered 404: no Service or workload served by this waypoint at /);
  });
}

test('with istio.io/waypoint-for: service, Pod-addressed CONNECTs are refused and Service traffic still flows', async () => {
  await mesh.write('mesh.yaml', config('service'));
  const err = await openTunnel(session, `${vip(10)}:${web0.port}`).then(() => undefined, (e: unknown) => e as Error & { status?: number });
  assert.equal(err?.status, 404);
  const viaVip = await tunnelRequest(session, `${vip(1)}:80`, { path: '/still' });
  assert.equal(backendOf(viaVip.body), 'other');
});
