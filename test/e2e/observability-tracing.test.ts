// End to end: tracing through the waypoint. W3C traceparent and B3 contexts are continued (or a trace is
// started), the waypoint's span becomes the upstream's parent, sampling follows the caller or the Telemetry
// percentage, and spans reach an OTLP/HTTP receiver through the OpenTelemetry SDK exporter.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Backend, type EchoReply, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../harness/otlp-receiver.js';
import { type ObservedMesh, startObservedMesh } from './observability-mesh.js';

const vip = vipRange();
let mesh: ObservedMesh;
let web: Backend;
let receiver: OtlpReceiver;

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const P = '00f067aa0ba902b7';

before(async () => {
  receiver = await startOtlpReceiver();
  web = await startBackend('web');
  mesh = await startObservedMesh({
    'mesh.yaml': meshPreamble()
      + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] })
      + serviceYaml({ name: 'quiet', vip: vip(2), endpoints: [`127.0.0.1:${web.port}`] })
      + serviceYaml({ name: 'empty', vip: vip(3), endpoints: [] })
      + `---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: tracing, namespace: default }
spec:
  tracing:
    - providers: [{ name: otel }]
      randomSamplingPercentage: 100
      customTags:
        team: { literal: { value: bookinfo } }
        user: { header: { name: x-user, defaultValue: anonymous } }
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: quiet, namespace: default }
spec:
  targetRefs: [{ kind: Service, group: "", name: quiet }]
  tracing: [{ randomSamplingPercentage: 0 }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: plain-tags, namespace: default }
spec:
  targetRefs: [{ kind: Service, group: "", name: empty }]
  tracing: [{ enableIstioTags: false }]
`,
  }, `extensionProviders:
  - name: otel
    opentelemetry:
      service: 127.0.0.1
      port: ${receiver.port}
      http: { path: /v1/traces, timeout: 5s }
`);
});

after(async () => {
  await mesh.close();
  await web.close();
  await receiver.close();
});

async function echoed(address: string, headers: Record<string, string>, path = '/'): Promise<EchoReply> {
  const res = await request(address, 80, { path, headers });
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as EchoReply;
}

function spanOf(traceId: string): ReceivedSpan | undefined {
  return receiver.spans.find((s) => s.traceId === traceId);
}

test('a W3C context is continued: the waypoint span is the child of the caller and the parent of the upstream request', async () => {
  const got = await echoed(vip(1), { traceparent: `00-${T}-${P}-01`, tracestate: 'vendor=x', 'x-user': 'alice' }, '/api?q=1');
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(got.headers['traceparent']));
  assert.ok(m !== null, String(got.headers['traceparent']));
  assert.equal(m[1], T);
  const waypointSpanId = m[2] as string;
  assert.notEqual(waypointSpanId, P);
  assert.equal(got.headers['tracestate'], 'vendor=x');
  await receiver.waitForSpans(() => spanOf(T) !== undefined);
  const span = spanOf(T);
  assert.ok(span !== undefined);
  assert.equal(span.spanId, waypointSpanId);
  assert.equal(span.parentSpanId, P);
  assert.equal(span.traceState, 'vendor=x');
  assert.equal(span.name, 'web.default.svc.cluster.local:80/*');
  assert.equal(span.kind, 2, 'SERVER');
  assert.ok(span.endNanos >= span.startNanos && span.startNanos > 0n);
  assert.equal(span.resource['service.name'], 'waypoint.default');
  assert.deepEqual(
    ['http.method', 'http.status_code', 'http.url', 'upstream_cluster', 'response_flags', 'component', 'istio.namespace', 'team', 'user'].map((k) => span.attributes[k]),
    ['GET', '200', `http://${vip(1)}/api?q=1`, 'inbound-vip|80|http|web.default.svc.cluster.local', '-', 'proxy', 'default', 'bookinfo', 'alice'],
  );
  assert.equal(span.attributes['guid:x-request-id'], got.headers['x-request-id']);
  assert.equal(span.attributes['upstream_address'], `127.0.0.1:${web.port}`);
  assert.ok(receiver.requests.every((r) => r.endsWith('application/x-protobuf')), receiver.requests.join(', '));
});

test('without a context the waypoint starts a trace and its span is the root', async () => {
  const got = await echoed(vip(1), {});
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(got.headers['traceparent']));
  assert.ok(m !== null);
  const traceId = m[1] as string;
  await receiver.waitForSpans(() => spanOf(traceId) !== undefined);
  assert.equal(spanOf(traceId)?.parentSpanId, '');
  assert.equal(spanOf(traceId)?.spanId, m[2]);
  assert.equal(spanOf(traceId)?.attributes['user'], 'anonymous');
});

test('B3 headers are continued and re-emitted with the waypoint span as parent', async () => {
  const traceId = 'a3ce929d0e0e4736a3ce929d0e0e4736';
  const caller = '1111111111111111';
  const got = await echoed(vip(1), { 'x-b3-traceid': traceId, 'x-b3-spanid': caller, 'x-b3-sampled': '1' });
  assert.equal(got.headers['x-b3-traceid'], traceId);
  assert.equal(got.headers['x-b3-parentspanid'], caller);
  assert.equal(got.headers['x-b3-sampled'], '1');
  const spanId = String(got.headers['x-b3-spanid']);
  assert.match(spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(spanId, caller);
  assert.equal(got.headers['traceparent'], `00-${traceId}-${spanId}-01`);
  await receiver.waitForSpans(() => spanOf(traceId) !== undefined);
  assert.equal(spanOf(traceId)?.spanId, spanId);
  assert.equal(spanOf(traceId)?.parentSpanId, caller);
});

test("the caller's not-sampled decision and a 0% sampling rate propagate without exporting", async () => {
  const unsampled = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
  const a = await echoed(vip(1), { traceparent: `00-${unsampled}-${P}-00` });
  assert.match(String(a.headers['traceparent']), new RegExp(`^00-${unsampled}-[0-9a-f]{16}-00$`));
  const b = await echoed(vip(2), {});
  const quiet = /^00-([0-9a-f]{32})-[0-9a-f]{16}-00$/.exec(String(b.headers['traceparent']));
  assert.ok(quiet !== null, 'the 0% Service still propagates a (not sampled) context');
  // A sampled marker request afterwards: spans are exported in order, so once it arrives the others would have.
  const marker = 'cccccccccccccccccccccccccccccccc';
  await echoed(vip(1), { traceparent: `00-${marker}-${P}-01` });
  await receiver.waitForSpans(() => spanOf(marker) !== undefined);
  assert.equal(spanOf(unsampled), undefined);
  assert.equal(spanOf(quiet[1] as string), undefined);
});

test('a local reply is traced too, marked as an error with its response flag (enableIstioTags: false drops istio.*)', async () => {
  const traceId = 'dddddddddddddddddddddddddddddddd';
  assert.equal((await request(vip(3), 80, { headers: { traceparent: `00-${traceId}-${P}-01` } })).status, 503);
  await receiver.waitForSpans(() => spanOf(traceId) !== undefined);
  const span = spanOf(traceId);
  assert.equal(span?.attributes['error'], 'true');
  assert.equal(span?.attributes['response_flags'], 'UH');
  assert.equal(span?.attributes['http.status_code'], '503');
  assert.equal(span?.statusCode, 2);
  assert.equal(span?.attributes['istio.namespace'], undefined);
  assert.equal(span?.attributes['team'], 'bookinfo', 'custom tags still inherited from the namespace Telemetry');
});
