// End to end: Istio's standard metrics for known traffic through the waypoint, scraped from the metrics
// address: label values for HTTP, gRPC and TCP, response flags of local replies, source labels from the
// client's Pod, `promtool check metrics` on the exposition, and no series from raw request data.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { echoClient, type EchoClient, type EchoReply, type GrpcBackend, startGrpcBackend, unary } from '../harness/grpc-echo.js';
import { type ObservedMesh, sampleValue, scrape, startObservedMesh } from './observability-mesh.js';

const vip = vipRange();
let mesh: ObservedMesh;
let reviews: Backend;
let grpcBackend: GrpcBackend;
let grpcClient: EchoClient;
let tcpEcho: net.Server;
/** The client's own loopback address, which a Pod in the config claims. */
const CLIENT_IP = '127.0.0.1';

const pod = (name: string, labels: Record<string, string>, ip: string, sa: string, owner?: { kind: string; name: string }): string => `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: default
  labels: ${JSON.stringify(labels)}
${owner === undefined ? '' : `  ownerReferences: [{ apiVersion: apps/v1, kind: ${owner.kind}, name: ${owner.name}, controller: true, uid: x }]\n`}spec:
  serviceAccountName: ${sa}
status:
  podIP: ${ip}
`;

before(async () => {
  reviews = await startBackend('reviews-v1', undefined, '127.0.0.3');
  grpcBackend = await startGrpcBackend('g1');
  tcpEcho = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', () => r()));
  const tcpPort = (tcpEcho.address() as net.AddressInfo).port;
  const slice = (svc: string, address: string, port: number, portName: string, podName: string): string => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${svc}-slice, namespace: default, labels: { kubernetes.io/service-name: ${svc} } }
addressType: IPv4
ports: [{ name: ${portName}, port: ${port} }]
endpoints: [{ addresses: ["${address}"], targetRef: { kind: Pod, name: ${podName}, namespace: default } }]
`;
  const route = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews, namespace: default }
spec:
  parentRefs: [{ group: "", kind: Service, name: reviews, port: 9080 }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /reviews } }], backendRefs: [{ name: reviews, port: 9080 }] }]
`;
  mesh = await startObservedMesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'reviews', vip: vip(1), port: 9080, endpoints: [] }),
      slice('reviews', '127.0.0.3', reviews.port, 'http', 'reviews-v1-7f9c6d5b8-abcde'),
      pod('reviews-v1-7f9c6d5b8-abcde', { app: 'reviews', version: 'v1', 'pod-template-hash': '7f9c6d5b8' }, '127.0.0.3', 'bookinfo-reviews', { kind: 'ReplicaSet', name: 'reviews-v1-7f9c6d5b8' }),
      pod('productpage-v1-0', { app: 'productpage', version: 'v1' }, CLIENT_IP, 'bookinfo-productpage', { kind: 'StatefulSet', name: 'productpage-v1' }),
      route,
      serviceYaml({ name: 'ratings', vip: vip(2), port: 9080, endpoints: [] }),
      serviceYaml({ name: 'echo', vip: vip(3), port: 9000, portName: 'grpc', endpoints: [`127.0.0.1:${grpcBackend.port}`] }),
      serviceYaml({ name: 'mongo', vip: vip(4), port: 27017, portName: 'tcp-mongo', endpoints: [`127.0.0.1:${tcpPort}`] }),
      serviceYaml({ name: 'grpc-empty', vip: vip(5), port: 9000, portName: 'grpc', endpoints: [] }),
    ].join(''),
  }, undefined);
  grpcClient = echoClient(vip(3), 9000);
});

after(async () => {
  grpcClient.close();
  await mesh.close();
  await reviews.close();
  await grpcBackend.close();
  await new Promise((r) => tcpEcho.close(r));
});

const REVIEWS = { reporter: 'waypoint', destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews' };

test('HTTP requests: counter, histograms and every label from the client Pod, the endpoint Pod and the Service', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await request(vip(1), 9080, { path: `/reviews/${i}`, body: 'x'.repeat(100), method: 'POST' })).status, 200);
  const text = (await scrape(mesh.metrics)).body;
  const labels = {
    ...REVIEWS,
    source_workload: 'productpage-v1', source_canonical_service: 'productpage', source_canonical_revision: 'v1', source_workload_namespace: 'default',
    source_principal: 'unknown', source_app: 'productpage', source_version: 'v1', source_cluster: 'Kubernetes',
    destination_workload: 'reviews-v1', destination_workload_namespace: 'default', destination_principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
    destination_app: 'reviews', destination_version: 'v1', destination_canonical_service: 'reviews', destination_canonical_revision: 'v1',
    destination_service_namespace: 'default', destination_cluster: 'Kubernetes',
    request_protocol: 'http', response_code: '200', grpc_response_status: '', response_flags: '-', connection_security_policy: 'none',
  };
  assert.equal(sampleValue(text, 'istio_requests_total', labels), 5);
  assert.equal(sampleValue(text, 'istio_request_duration_milliseconds_count', labels), 5);
  assert.equal(sampleValue(text, 'istio_request_duration_milliseconds_bucket', { ...labels, le: '+Inf' }), 5);
  // Wire bytes: request line, headers and the 100-byte body; responses carry headers and the echo JSON.
  const reqBytes = sampleValue(text, 'istio_request_bytes_sum', labels) ?? 0;
  assert.ok(reqBytes > 5 * 100 && reqBytes < 5 * 400, `request bytes ${reqBytes}`);
  const respBytes = sampleValue(text, 'istio_response_bytes_sum', labels) ?? 0;
  assert.ok(respBytes > 5 * 300, `response bytes ${respBytes}`);
  assert.equal(sampleValue(text, 'istio_request_bytes_bucket', { ...labels, le: '0.5' }), 0);
});

test('local replies are counted with their status and response flag', async () => {
  assert.equal((await request(vip(1), 9080, { path: '/unrouted' })).status, 404);
  assert.equal((await request(vip(2), 9080)).status, 503);
  const text = (await scrape(mesh.metrics)).body;
  assert.equal(sampleValue(text, 'istio_requests_total', { ...REVIEWS, response_code: '404', response_flags: 'NR', destination_workload: 'unknown' }), 1);
  assert.equal(sampleValue(text, 'istio_requests_total', { destination_service_name: 'ratings', response_code: '503', response_flags: 'UH', destination_workload: 'unknown' }), 1);
});

test('labels never come from request data: paths, hosts and a baggage header on a plain connection add no series', async () => {
  const before = (await scrape(mesh.metrics)).body.split('\n').filter((l) => l.startsWith('istio_requests_total{')).length;
  for (let i = 0; i < 20; i++) {
    await request(vip(1), 9080, { path: `/reviews/${i}-${Math.random()}`, headers: { host: `h${i}.example`, baggage: `k8s.deployment.name=evil${i},service.name=evil${i}`, 'x-user': String(i) } });
  }
  const text = (await scrape(mesh.metrics)).body;
  assert.equal(text.split('\n').filter((l) => l.startsWith('istio_requests_total{')).length, before);
  assert.ok(!text.includes('evil'), 'baggage on a request is not trusted for source labels');
  assert.equal(sampleValue(text, 'istio_requests_total', { ...REVIEWS, response_code: '200', source_workload: 'productpage-v1' }), 25);
});

test('gRPC calls: request_protocol grpc, grpc_response_status and message counts', async () => {
  await unary(grpcClient, { message: 'hi' });
  const replies = await new Promise<EchoReply[]>((resolve, reject) => {
    const out: EchoReply[] = [];
    const s = grpcClient.ServerStream({ message: 'm', count: 3 }, new grpc.Metadata(), {});
    s.on('data', (r: EchoReply) => out.push(r));
    s.on('error', reject);
    s.on('end', () => resolve(out));
  });
  assert.equal(replies.length, 3);
  await unary(grpcClient, { message: 'x', failCode: 14 }).catch(() => undefined);
  const grpcOk = { destination_service_name: 'echo', request_protocol: 'grpc', response_code: '200', grpc_response_status: '0' };
  const text = (await scrape(mesh.metrics)).body;
  assert.equal(sampleValue(text, 'istio_requests_total', grpcOk), 2);
  assert.equal(sampleValue(text, 'istio_requests_total', { ...grpcOk, grpc_response_status: '14' }), 1);
  assert.equal(sampleValue(text, 'istio_response_messages_total', grpcOk), 4);
  assert.equal(sampleValue(text, 'istio_request_messages_total', grpcOk), 2);
});

test('a gRPC local reply is Trailers-Only: response_code 200, its error in grpc_response_status', async () => {
  const client = echoClient(vip(5), 9000);
  try {
    const err = await unary(client, { message: 'x' }).then(() => undefined, (e: unknown) => e);
    assert.equal((err as { code?: number } | undefined)?.code, grpc.status.UNAVAILABLE);
  } finally {
    client.close();
  }
  const text = (await scrape(mesh.metrics)).body;
  assert.equal(sampleValue(text, 'istio_requests_total', {
    destination_service_name: 'grpc-empty', request_protocol: 'grpc', response_code: '200', grpc_response_status: '14', response_flags: 'UH',
  }), 1);
});

test('TCP connections: opened, closed and bytes each way', async () => {
  const payload = Buffer.alloc(3000, 97);
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(27017, vip(4), () => socket.end(payload));
    let got = 0;
    socket.on('data', (c: Buffer) => (got += c.length));
    socket.on('error', reject);
    socket.on('close', () => (got === payload.length ? resolve() : reject(new Error(`echoed ${got} bytes`))));
  });
  const tcp = { destination_service_name: 'mongo', request_protocol: 'tcp', response_flags: '-' };
  let text = '';
  await waitForAsync(async () => {
    text = (await scrape(mesh.metrics)).body;
    return sampleValue(text, 'istio_tcp_connections_closed_total', tcp) === 1;
  });
  assert.equal(sampleValue(text, 'istio_tcp_connections_opened_total', tcp), 1);
  assert.equal(sampleValue(text, 'istio_tcp_received_bytes_total', tcp), 3000);
  assert.equal(sampleValue(text, 'istio_tcp_sent_bytes_total', tcp), 3000);
  assert.doesNotMatch(text, /istio_tcp_sent_bytes_total\{[^}]*response_code=/);
});

test('an open TCP connection reports its bytes so far before it closes', async () => {
  const tcp = { destination_service_name: 'mongo', request_protocol: 'tcp', response_flags: '-' };
  const socket = net.connect(27017, vip(4));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(Buffer.alloc(500, 98));
  await new Promise<void>((resolve) => {
    let got = 0;
    socket.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= 500) resolve();
    });
  });
  const text = (await scrape(mesh.metrics)).body;
  assert.equal(sampleValue(text, 'istio_tcp_connections_opened_total', tcp), 2);
  assert.equal(sampleValue(text, 'istio_tcp_connections_closed_total', tcp), 1);
  assert.equal(sampleValue(text, 'istio_tcp_received_bytes_total', tcp), 3500);
  assert.equal(sampleValue(text, 'istio_tcp_sent_bytes_total', tcp), 3500);
  socket.destroy();
});

test('promtool check metrics accepts the exposition (only the base-unit note Istio\'s own metric name causes)', async () => {
  const text = (await scrape(mesh.metrics)).body;
  const { code, output } = await promtool(text);
  const problems = output.split('\n').filter((l) => l.trim() !== '');
  assert.deepEqual(problems, ['istio_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"'], output);
  assert.equal(code, 3, 'exit 3 is "lint problems", 1 would be a parse error');
});

test('OpenMetrics is served when Accept asks for it', async () => {
  const { type, body } = await scrape(mesh.metrics, 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5');
  assert.match(type, /^application\/openmetrics-text; version=1\.0\.0/);
  assert.match(body, /^# TYPE istio_requests counter$/m);
  assert.ok(body.endsWith('# EOF\n'));
  const plain = await scrape(mesh.metrics);
  assert.match(plain.type, /^text\/plain; version=0\.0\.4/);
});

test('proxy health metrics: requests, connections, upstream pools, event loop, config reloads', async () => {
  await mesh.write('extra.yaml', '---\napiVersion: v1\nkind: Service\nmetadata: { name: broken, namespace: default }\nspec: { ports: [{ port: 99999 }] }\n');
  const text = (await scrape(mesh.metrics)).body;
  for (const name of ['waypoint_downstream_requests_total', 'waypoint_upstream_connections', 'waypoint_event_loop_utilization', 'waypoint_event_loop_delay_p99_seconds', 'waypoint_telemetry_series']) {
    assert.match(text, new RegExp(`^${name}(\\{[^}]*\\})? [0-9.e+-]+$`, 'm'), name);
  }
  assert.equal(sampleValue(text, 'waypoint_config_reloads_total', { result: 'applied' }), 2);
  assert.match(text, /^waypoint_config_rejected_resources 1$/m);
  assert.ok((sampleValue(text, 'waypoint_upstream_connections', { state: 'idle' }) ?? 0) >= 1);
});

function promtool(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(text);
  });
}

async function waitForAsync(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 50));
  }
}
