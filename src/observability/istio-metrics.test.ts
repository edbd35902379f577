import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpositionWriter, negotiateFormat } from './exposition.js';
import { destinationLabelText, sourceLabelText, UNKNOWN_WORKLOAD } from './istio-labels.js';
import { ALL_METRICS, DEFAULT_BUCKETS, type HttpObservation, IstioMetrics, type SourcePeer } from './istio-metrics.js';

/** Istio's label order (istio_stats.cc), TCP metrics without response_code and grpc_response_status. */
const HTTP_LABELS = [
  'reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace', 'source_principal',
  'source_app', 'source_version', 'source_cluster', 'destination_workload', 'destination_workload_namespace', 'destination_principal',
  'destination_app', 'destination_version', 'destination_service', 'destination_canonical_service', 'destination_canonical_revision',
  'destination_service_name', 'destination_service_namespace', 'destination_cluster', 'request_protocol', 'response_code',
  'grpc_response_status', 'response_flags', 'connection_security_policy',
];

const peer: SourcePeer = { text: sourceLabelText({ ...UNKNOWN_WORKLOAD, workload: 'productpage-v1', namespace: 'default' }), policy: 'none', meta: UNKNOWN_WORKLOAD };
const dest = {
  text: destinationLabelText({ ...UNKNOWN_WORKLOAD, workload: 'reviews-v1', namespace: 'default', app: 'reviews' }, { hostname: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default' }, 'Kubernetes'),
  meta: UNKNOWN_WORKLOAD,
};
const ok: HttpObservation = { protocol: 'http', status: 200, flag: undefined, grpcStatus: undefined, durationMs: 3, requestBytes: 120, responseBytes: 800, requestMessages: 0, responseMessages: 0 };

function scrape(m: IstioMetrics, format: 'prometheus' | 'openmetrics' = 'prometheus'): string {
  const w = new ExpositionWriter(format);
  m.collect(w);
  return w.finish();
}

test('request series carry every label in Istio order with Istio values', () => {
  const m = new IstioMetrics('test');
  m.recordHttp(peer, dest, ok, ALL_METRICS);
  const line = scrape(m).split('\n').find((l) => l.startsWith('istio_requests_total{'));
  assert.ok(line !== undefined);
  const names = [...line.matchAll(/([a-z_]+)="/g)].map((x) => x[1]);
  assert.deepEqual(names, HTTP_LABELS);
  assert.match(line, /reporter="waypoint"/);
  assert.match(line, /source_canonical_revision="latest"/);
  assert.match(line, /grpc_response_status="",response_flags="-",connection_security_policy="none"\} 1$/);
});

test('the same request twice is one series; another status or flag is another', () => {
  const m = new IstioMetrics('test');
  m.recordHttp(peer, dest, ok, ALL_METRICS);
  m.recordHttp(peer, { ...dest }, ok, ALL_METRICS); // an equal label set from another snapshot
  m.recordHttp(peer, dest, { ...ok, status: 503, flag: 'UH' }, ALL_METRICS);
  const lines = scrape(m).split('\n').filter((l) => l.startsWith('istio_requests_total{'));
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /response_code="200".* 2$/);
  assert.match(lines[1] ?? '', /response_code="503",grpc_response_status="",response_flags="UH".* 1$/);
});

test('histograms use Envoy default buckets, cumulative, with sum and count', () => {
  const m = new IstioMetrics('test');
  for (const d of [0.2, 3, 3, 70000]) m.recordHttp(peer, dest, { ...ok, durationMs: d }, ALL_METRICS);
  const text = scrape(m);
  const buckets = text.split('\n').filter((l) => l.startsWith('istio_request_duration_milliseconds_bucket{'));
  assert.equal(buckets.length, DEFAULT_BUCKETS.length + 1);
  const counts = buckets.map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
  assert.deepEqual(counts.slice(0, 4), [1, 1, 3, 3]); // le 0.5, 1, 5, 10
  assert.equal(counts.at(-2), 4); // le 3600000
  assert.match(buckets.at(-1) ?? '', /le="\+Inf"\} 4$/);
  assert.match(text, /istio_request_duration_milliseconds_sum\{[^}]*\} 70006\.2\n/);
  assert.match(text, /istio_request_duration_milliseconds_count\{[^}]*\} 4\n/);
  assert.match(text, /istio_request_bytes_sum\{[^}]*\} 480\n/);
  assert.match(text, /istio_response_bytes_sum\{[^}]*\} 3200\n/);
});

test('gRPC requests record grpc_response_status and message counts', () => {
  const m = new IstioMetrics('test');
  m.recordHttp(peer, dest, { ...ok, protocol: 'grpc', grpcStatus: 14, requestMessages: 3, responseMessages: 5 }, ALL_METRICS);
  const text = scrape(m);
  assert.match(text, /istio_requests_total\{[^}]*request_protocol="grpc",response_code="200",grpc_response_status="14"/);
  assert.match(text, /istio_request_messages_total\{[^}]*\} 3\n/);
  assert.match(text, /istio_response_messages_total\{[^}]*\} 5\n/);
});

test('disabled metrics are not recorded', () => {
  const m = new IstioMetrics('test');
  m.recordHttp(peer, dest, ok, { ...ALL_METRICS, requestCount: false });
  const text = scrape(m);
  assert.match(text, /istio_requests_total\{[^}]*\} 0\n/);
  assert.match(text, /istio_request_duration_milliseconds_count\{[^}]*\} 1\n/);
});

test('TCP series omit response_code and grpc_response_status', () => {
  const m = new IstioMetrics('test');
  const s = m.tcpSeries(peer, dest, undefined);
  s.opened++;
  s.received += 10;
  const line = scrape(m).split('\n').find((l) => l.startsWith('istio_tcp_received_bytes_total{'));
  const names = [...(line ?? '').matchAll(/([a-z_]+)="/g)].map((x) => x[1]);
  assert.deepEqual(names, HTTP_LABELS.filter((l) => l !== 'response_code' && l !== 'grpc_response_status'));
  assert.match(line ?? '', /request_protocol="tcp".* 10$/);
  assert.equal(m.tcpSeries(peer, dest, undefined), s);
  assert.notEqual(m.tcpSeries(peer, dest, 'UF,URX'), s);
});

test('OpenMetrics names counter families without _total, canonical le values, and ends with # EOF', () => {
  const m = new IstioMetrics('test');
  m.recordHttp(peer, dest, ok, ALL_METRICS);
  const text = scrape(m, 'openmetrics');
  assert.match(text, /^# TYPE istio_requests counter$/m);
  assert.match(text, /^istio_requests_total\{/m);
  assert.match(text, /le="1\.0"/);
  assert.match(text, /le="0\.5"/);
  assert.ok(text.endsWith('# EOF\n'));
  assert.match(scrape(m), /^# TYPE istio_requests_total counter$/m);
});

const accepts: ReadonlyArray<[string | undefined, 'prometheus' | 'openmetrics']> = [
  ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
  ['text/plain', 'prometheus'],
  [undefined, 'prometheus'],
];
for (const [accept, want] of accepts) test(`Accept ${accept ?? '(none)'} → ${want}`, () => assert.equal(negotiateFormat(accept), want));
