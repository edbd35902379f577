// Tests for telemetry compilation: which access logs, tracing and metrics each served Service gets from
// MeshConfig and Telemetry resources (scope and precedence), and the destination labels built from Pods.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpFilter } from '../../filters/types.js';
import { type MeshConfig, meshConfig } from '../model/mesh-config.js';
import type { Snapshot } from '../snapshot.js';
import { parseConfigText } from '../source/yaml-documents.js';
import { compile, type CompileResult } from './index.js';
import { workloadName } from './telemetry-workloads.js';

const yaml = (o: Readonly<Record<string, unknown>>): string => JSON.stringify(o);
const BASE = [
  yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps', labels: { 'istio.io/use-waypoint': 'waypoint' } } }),
  yaml({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'waypoint', namespace: 'apps' }, spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } }),
  ...['reviews', 'ratings'].map((name, i) => yaml({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'apps' }, spec: { clusterIP: `127.0.9.${i + 1}`, ports: [{ name: 'http', port: 9080 }] } })),
  yaml({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'reviews-1', namespace: 'apps', labels: { 'kubernetes.io/service-name': 'reviews' } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 9080 }],
    endpoints: [
      { addresses: ['10.1.0.5'], targetRef: { kind: 'Pod', name: 'reviews-v2-5d8f7c9b4-x7k2p', namespace: 'apps' } },
      { addresses: ['10.1.0.6'], targetRef: { kind: 'Pod', name: 'no-such-pod' } },
    ],
  }),
  yaml({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'reviews-v2-5d8f7c9b4-x7k2p', namespace: 'apps', labels: { app: 'reviews', version: 'v2', 'pod-template-hash': '5d8f7c9b4' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'reviews-v2-5d8f7c9b4', controller: true }] },
    spec: { serviceAccountName: 'bookinfo-reviews' }, status: { podIP: '10.1.0.5' },
  }),
  yaml({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: 'apps', labels: { 'service.istio.io/canonical-name': 'web' } }, spec: {}, status: { podIP: '127.0.0.5' } }),
];

function telemetry(kind: 'Telemetry', name: string, namespace: string, spec: Readonly<Record<string, unknown>>): string {
  return yaml({ apiVersion: 'telemetry.istio.io/v1', kind, metadata: { name, namespace }, spec });
}

function run(extra: ReadonlyArray<string>, mesh: Readonly<Record<string, unknown>> = {}): { result: CompileResult; snapshot: Snapshot } {
  const parsed = parseConfigText([...BASE, ...extra].join('\n---\n'), 'test.yaml', 0);
  assert.deepEqual(parsed.diagnostics, []);
  const m: MeshConfig = meshConfig.parse(mesh);
  const result = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1, mesh: m });
  assert.ok(result.ok);
  return { result, snapshot: result.snapshot };
}

const svc = (s: Snapshot, key: string) => {
  const t = s.telemetry?.services.get(key);
  assert.ok(t !== undefined, key);
  return t;
};
const tracingFilter = (s: Snapshot, key: string): HttpFilter | undefined => s.services.get(key)?.ports[0]?.filters.find((f) => f.name === 'envoy.tracing');

const OTEL = { extensionProviders: [{ name: 'otel', opentelemetry: { service: 'collector.observability.svc.cluster.local', port: 4318, http: { path: '/v1/traces', timeout: '2s' } } }] };

test('no access log, no tracing and every metric by default', () => {
  const { snapshot } = run([]);
  const t = svc(snapshot, 'apps/reviews');
  assert.equal(t.accessLogs.length, 0);
  assert.equal(tracingFilter(snapshot, 'apps/reviews'), undefined);
  assert.ok(Object.values(t.metrics).every((v) => v));
});

test('MeshConfig accessLogFile turns on the text log for every Service', () => {
  const { snapshot } = run([], { accessLogFile: '/tmp/x.log' });
  for (const key of ['apps/reviews', 'apps/ratings']) {
    const logs = svc(snapshot, key).accessLogs;
    assert.equal(logs.length, 1);
    assert.equal(logs[0]?.sink.path, '/tmp/x.log');
    assert.equal(logs[0]?.format.encoding, 'TEXT');
  }
  assert.deepEqual(snapshot.telemetry?.sinks.map((s) => s.path), ['/tmp/x.log']);
});

test('accessLogEncoding JSON selects the JSON form', () => {
  const { snapshot } = run([], { accessLogFile: '/dev/stdout', accessLogEncoding: 'JSON' });
  assert.equal(svc(snapshot, 'apps/reviews').accessLogs[0]?.format.encoding, 'JSON');
});

test('a Telemetry targeting one Service turns its log on; a namespace Telemetry applies to the rest', () => {
  const { snapshot } = run([
    telemetry('Telemetry', 'ns-wide', 'apps', { accessLogging: [{ disabled: true }] }),
    telemetry('Telemetry', 'reviews', 'apps', { targetRefs: [{ kind: 'Service', group: '', name: 'reviews' }], accessLogging: [{ providers: [{ name: 'envoy' }], filter: { expression: 'response.code >= 500' } }] }),
  ], { accessLogFile: '/tmp/mesh.log' });
  const reviews = svc(snapshot, 'apps/reviews').accessLogs;
  assert.equal(reviews.length, 1);
  assert.equal(reviews[0]?.filter?.(503), true);
  assert.equal(reviews[0]?.filter?.(200), false);
  assert.equal(svc(snapshot, 'apps/ratings').accessLogs.length, 0);
});

test('a Telemetry targeting the waypoint Gateway overrides the mesh-wide one in the root namespace', () => {
  const { snapshot } = run([
    yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } }),
    telemetry('Telemetry', 'mesh-default', 'istio-system', { tracing: [{ providers: [{ name: 'otel' }], randomSamplingPercentage: 5 }] }),
    telemetry('Telemetry', 'waypoint', 'apps', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'waypoint' }], tracing: [{ randomSamplingPercentage: 100 }] }),
  ], OTEL);
  assert.ok(tracingFilter(snapshot, 'apps/reviews') !== undefined);
  assert.deepEqual(snapshot.telemetry?.providers.map((p) => p.url), ['http://collector.observability.svc.cluster.local:4318/v1/traces']);
});

test('MeshConfig tracing: enableTracing with a default provider, sampling from defaultConfig', () => {
  const on = run([], { ...OTEL, enableTracing: true, defaultProviders: { tracing: ['otel'] }, defaultConfig: { tracing: { sampling: 50 } } });
  assert.ok(tracingFilter(on.snapshot, 'apps/ratings') !== undefined);
  const off = run([], { ...OTEL, enableTracing: false, defaultProviders: { tracing: ['otel'] } });
  assert.equal(tracingFilter(off.snapshot, 'apps/ratings'), undefined);
});

test('metrics overrides disable named metrics; providers without prometheus disable all', () => {
  const { snapshot } = run([
    telemetry('Telemetry', 'reviews', 'apps', { targetRefs: [{ kind: 'Service', name: 'reviews' }], metrics: [{ overrides: [{ match: { metric: 'REQUEST_DURATION' }, disabled: true }] }] }),
    telemetry('Telemetry', 'ratings', 'apps', { targetRefs: [{ kind: 'Service', name: 'ratings' }], metrics: [{ providers: [{ name: 'other' }] }] }),
  ]);
  const r = svc(snapshot, 'apps/reviews').metrics;
  assert.equal(r.requestDuration, false);
  assert.equal(r.requestCount, true);
  assert.ok(Object.values(svc(snapshot, 'apps/ratings').metrics).every((v) => !v));
});

const diagnosticsCases: ReadonlyArray<{ name: string; docs: string[]; mesh?: Record<string, unknown>; code: string; severity: string }> = [
  { name: 'selector Telemetry is reported as not applied to waypoints', docs: [telemetry('Telemetry', 't', 'apps', { selector: { matchLabels: { app: 'x' } }, accessLogging: [{}] })], code: 'not-applied-to-waypoint', severity: 'warning' },
  { name: 'tagOverrides are refused', docs: [telemetry('Telemetry', 't', 'apps', { metrics: [{ overrides: [{ tagOverrides: { request_host: { value: 'request.host' } } }] }] })], code: 'invalid-field', severity: 'error' },
  { name: 'unsupported filter expressions are refused', docs: [telemetry('Telemetry', 't', 'apps', { accessLogging: [{ filter: { expression: 'request.url_path.startsWith("/x")' } }] })], code: 'invalid-field', severity: 'error' },
  { name: 'an unknown provider is reported', docs: [telemetry('Telemetry', 't', 'apps', { accessLogging: [{ providers: [{ name: 'nope' }] }] })], code: 'unsupported-provider', severity: 'warning' },
  { name: 'a missing target Service is reported', docs: [telemetry('Telemetry', 't', 'apps', { targetRefs: [{ kind: 'Service', name: 'gone' }], tracing: [{}] })], code: 'target-not-found', severity: 'warning' },
  { name: 'a second Telemetry at the same scope is reported as a conflict', docs: [telemetry('Telemetry', 'a-first', 'apps', { accessLogging: [{}] }), telemetry('Telemetry', 't', 'apps', { accessLogging: [{ disabled: true }] })], code: 'conflicting-telemetry', severity: 'warning' },
  { name: 'metrics reportingInterval is accepted with a note that metrics are always current', docs: [telemetry('Telemetry', 't', 'apps', { metrics: [{ reportingInterval: '30s' }] })], code: 'always-current', severity: 'info' },
  { name: 'a zipkin tracing provider is reported', docs: [telemetry('Telemetry', 't', 'apps', { tracing: [{ providers: [{ name: 'zipkin' }] }] })], mesh: { extensionProviders: [{ name: 'zipkin', zipkin: { service: 'z', port: 9411 } }] }, code: 'unsupported-provider', severity: 'warning' },
];
for (const c of diagnosticsCases) {
  test(c.name, () => {
    const { result } = run(c.docs, c.mesh);
    const d = result.diagnostics.find((x) => x.code === c.code && x.resource === 'Telemetry apps/t');
    assert.ok(d !== undefined, JSON.stringify(result.diagnostics.map((x) => [x.code, x.resource, x.message])));
    assert.equal(d.severity, c.severity);
  });
}

test('destination labels come from the endpoint Pod: workload, app, version, principal', () => {
  const { snapshot } = run([]);
  const cluster = snapshot.telemetry?.clusters.get('inbound-vip|9080|http|reviews.apps.svc.cluster.local');
  assert.ok(cluster !== undefined);
  const known = cluster.endpoints.get('10.1.0.5:9080')?.text ?? '';
  assert.match(known, /^destination_workload="reviews-v2",destination_workload_namespace="apps",destination_principal="spiffe:\/\/cluster.local\/ns\/apps\/sa\/bookinfo-reviews",destination_app="reviews",destination_version="v2",destination_service="reviews.apps.svc.cluster.local",destination_canonical_service="reviews",destination_canonical_revision="v2",destination_service_name="reviews",destination_service_namespace="apps",destination_cluster="Kubernetes"$/);
  const unknown = cluster.endpoints.get('10.1.0.6:9080')?.text ?? '';
  assert.match(unknown, /^destination_workload="unknown",destination_workload_namespace="apps",destination_principal="unknown",/);
  assert.match(cluster.service.text, /destination_workload="unknown",destination_workload_namespace="unknown"/);
  const client = snapshot.telemetry?.workloadsByIp.get('127.0.0.5');
  assert.equal(client?.canonicalService, 'web');
  assert.equal(client?.workload, 'client');
});

const names: ReadonlyArray<{ pod: string; owner: { kind: string; name: string } | undefined; hash: string | undefined; want: string }> = [
  { pod: 'web-6b9f-abcde', owner: { kind: 'ReplicaSet', name: 'web-6b9f' }, hash: '6b9f', want: 'web' },
  { pod: 'web-6b9f-abcde', owner: { kind: 'ReplicaSet', name: 'web-6b9f' }, hash: undefined, want: 'web' },
  { pod: 'db-0', owner: { kind: 'StatefulSet', name: 'db' }, hash: undefined, want: 'db' },
  { pod: 'backup-28500000-q', owner: { kind: 'Job', name: 'backup-28500000' }, hash: undefined, want: 'backup' },
  { pod: 'solo', owner: undefined, hash: undefined, want: 'solo' },
];
for (const c of names) {
  test(`workload name of ${c.pod} owned by ${c.owner?.kind ?? 'nothing'} is ${c.want}`, () => {
    assert.equal(workloadName(c.pod, c.owner === undefined ? undefined : { ...c.owner, controller: true }, c.hash), c.want);
  });
}
