// End to end: GRPCRoute on a Service port with real gRPC clients: service/method (Exact, RegularExpression)
// and header matches in GRPCRoute precedence, weighted backends, UNAVAILABLE for backends that cannot be
// used, UNIMPLEMENTED when no rule matches, header-modifier filters, status, and GRPCRoute > HTTPRoute.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, test } from 'node:test';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { echoClient, type EchoClient, type EchoReply, type GrpcBackend, otherClient, startGrpcBackend, statusOf, unary } from '../harness/grpc-echo.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const vip = vipRange();
const PORT = 9000;
let mesh: TestMesh;
const backends: Record<string, GrpcBackend> = {};
let client: EchoClient;

const routes = `---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: echo-routes, namespace: default }
spec:
  parentRefs: [{ group: "", kind: Service, name: front, port: ${PORT} }]
  rules:
    - matches: [{ method: { service: waypoint.test.Echo, method: Unary } }]
      backendRefs: [{ name: svc-b, port: ${PORT} }]
    - matches: [{ method: { service: waypoint.test.Echo } }]
      backendRefs: [{ name: svc-a, port: ${PORT} }]
    - matches: [{ method: { type: RegularExpression, service: 'waypoint\\.test\\.Oth.*' } }]
      backendRefs: [{ name: svc-c, port: ${PORT} }]
    - matches: [{ method: { service: waypoint.test.Echo, method: Unary }, headers: [{ name: x-canary, value: "1" }] }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: x-routed-by, value: canary-rule }] }
        - type: ResponseHeaderModifier
          responseHeaderModifier: { add: [{ name: x-canary-response, value: "yes" }] }
      backendRefs: [{ name: svc-c, port: ${PORT} }]
    - matches: [{ method: { service: waypoint.test.Echo, method: Bidi } }]
      backendRefs: [{ name: missing, port: ${PORT} }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: weighted, namespace: default }
spec:
  parentRefs: [{ group: "", kind: Service, name: split }]
  rules:
    - matches: [{ method: { type: RegularExpression, method: 'Un.ry' } }]
      backendRefs: [{ name: svc-a, port: ${PORT}, weight: 1 }, { name: svc-b, port: ${PORT}, weight: 1 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: loses-to-grpc, namespace: default }
spec:
  parentRefs: [{ group: "", kind: Service, name: split }]
  rules: [{ backendRefs: [{ name: svc-c, port: ${PORT} }] }]
`;

before(async () => {
  for (const name of ['a', 'b', 'c']) backends[name] = await startGrpcBackend(`g-${name}`);
  const b = (n: string): string => `127.0.0.1:${backends[n]?.port ?? 0}`;
  mesh = await startMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'front', vip: vip(1), port: PORT, portName: 'grpc', endpoints: [b('a')] }),
      serviceYaml({ name: 'split', vip: vip(2), port: PORT, portName: 'grpc', endpoints: [b('a')] }),
      serviceYaml({ name: 'svc-a', vip: vip(10), port: PORT, portName: 'grpc', endpoints: [b('a')] }),
      serviceYaml({ name: 'svc-b', vip: vip(11), port: PORT, appProtocol: 'kubernetes.io/h2c', portName: 'api', endpoints: [b('b')] }),
      serviceYaml({ name: 'svc-c', vip: vip(12), port: PORT, portName: 'http2', endpoints: [b('c')] }),
      routes,
    ].join(''),
  });
  client = echoClient(vip(1), PORT);
});

after(async () => {
  client.close();
  await mesh.close();
  for (const b of Object.values(backends)) await b.close();
});

function serverStreamBackend(c: EchoClient): Promise<string> {
  return new Promise((resolve, reject) => {
    const call = c.ServerStream({ count: 1 }, new grpc.Metadata(), {});
    call.on('data', (r: EchoReply) => resolve(r.backend));
    call.on('error', reject);
  });
}

test('service + method Exact beats service only; service only takes the other methods', async () => {
  assert.equal((await unary(client, { message: 'x' })).reply.backend, 'g-b');
  assert.equal(await serverStreamBackend(client), 'g-a');
});

test('more header matches win for the same service and method; route filters edit request and response', async () => {
  const { reply, headers } = await unary(client, { message: 'x' }, { metadata: { 'x-canary': '1' } });
  assert.equal(reply.backend, 'g-c');
  assert.equal(reply.metadata['x-routed-by'], 'canary-rule');
  assert.equal(headers['x-canary-response'], 'yes');
});

test('RegularExpression service match routes another service', async () => {
  const other = otherClient(vip(1), PORT);
  try {
    const { reply } = await unary(other, {});
    assert.equal(reply.backend, 'g-c');
    assert.equal(reply.message, 'other');
  } finally {
    other.close();
  }
});

test('a backendRef that does not resolve fails calls with UNAVAILABLE (Gateway API), as a Trailers-Only reply', async () => {
  const call = client.Bidi(new grpc.Metadata(), {});
  call.on('error', () => undefined);
  call.end();
  const status = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  assert.equal(status.code, grpc.status.UNAVAILABLE);
});

test('weights split calls between backends; HTTPRoute on the same Service port loses to the GRPCRoute', async () => {
  const split = echoClient(vip(2), PORT);
  try {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add((await unary(split, {})).reply.backend);
    assert.deepEqual([...seen].sort(), ['g-a', 'g-b']);
    // ServerStream matches no GRPCRoute rule (method regex `Un.ry`), and the HTTPRoute does not apply: 404 → UNIMPLEMENTED.
    await assert.rejects(serverStreamBackend(split), (err) => statusOf(err).code === grpc.status.UNIMPLEMENTED);
  } finally {
    split.close();
  }
});

test('status: GRPCRoutes Accepted with ResolvedRefs; the HTTPRoute Conflicted; the broken backend reported', async () => {
  const [host, port] = mesh.admin.split(':');
  const dump = JSON.parse((await request(host ?? '', Number(port), { path: '/config_dump' })).body) as {
    status: { routes: Array<{ kind: string; name: string; parents: Array<{ conditions: Array<{ type: string; status: string; reason: string }> }> }> };
  };
  const cond = (kind: string, name: string, type: string): { status: string; reason: string } | undefined =>
    dump.status.routes.find((r) => r.kind === kind && r.name === name)?.parents[0]?.conditions.find((c) => c.type === type);
  assert.equal(cond('GRPCRoute', 'weighted', 'Accepted')?.status, 'True');
  assert.equal(cond('GRPCRoute', 'weighted', 'ResolvedRefs')?.status, 'True');
  assert.equal(cond('GRPCRoute', 'echo-routes', 'ResolvedRefs')?.reason, 'BackendNotFound');
  assert.equal(cond('HTTPRoute', 'loses-to-grpc', 'Accepted')?.status, 'False');
  assert.equal(cond('HTTPRoute', 'loses-to-grpc', 'Accepted')?.reason, 'Conflicted');
});

test('a plain HTTP/1.1 request to a GRPCRoute port is routed by its path like any call', async () => {
  const res = await request(vip(1), PORT, { method: 'POST', path: '/no.such.Service/Method', headers: { 'content-type': 'application/grpc' } });
  // No rule matches: Envoy's 404 becomes grpc-status 12 (UNIMPLEMENTED) in a Trailers-Only reply.
  assert.equal(res.status, 200);
  assert.equal(res.headers['grpc-status'], '12');
  assert.equal(res.headers['content-type'], 'application/grpc');
});
