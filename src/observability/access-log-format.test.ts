import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeaderList } from '../http/header-list.js';
import type { HttpExchange } from '../proxy/http-exchange.js';
import { compileJsonFormat, compileTextFormat, ISTIO_JSON_LABELS, ISTIO_TEXT_FORMAT, type LogEntry } from './access-log-format.js';

function entry(over: Partial<Record<string, unknown>> = {}): LogEntry {
  const ex = {
    method: 'GET',
    path: '/api/v1?x=1',
    req: { httpVersion: '1.1' },
    requestHeaders: new HeaderList(['host', 'reviews.default:9080', 'user-agent', 'curl/8.0', 'x-request-id', 'abc-123']),
    status: 200,
    flag: undefined,
    details: 'via_upstream',
    upstreamHost: '10.0.0.7:9080',
    clusterId: 'inbound-vip|9080|http|reviews.default.svc.cluster.local',
    routeName: 'default.reviews.0',
    upstreamServiceTimeMs: 4,
    conn: { listenerKey: '127.10.0.2:9080', remoteAddress: '127.0.0.1', remotePort: 50123, peerPrincipal: undefined },
    trace: undefined,
    ...over,
  } as unknown as HttpExchange;
  return { ex, status: ex.status, startTime: Date.parse('2026-10-09T08:07:10.309Z'), durationMs: 6.4, bytesReceived: 0, bytesSent: 358 };
}

test("Istio's default text line, field by field", () => {
  const r = compileTextFormat(ISTIO_TEXT_FORMAT);
  assert.ok(r.ok);
  assert.equal(r.format.render(entry()),
    '[2026-10-09T08:07:10.309Z] "GET /api/v1?x=1 HTTP/1.1" 200 - via_upstream - "-" 0 358 6 4 "-" "curl/8.0" "abc-123" ' +
    '"reviews.default:9080" "10.0.0.7:9080" inbound-vip|9080|http|reviews.default.svc.cluster.local - 127.10.0.2:9080 127.0.0.1:50123 - default.reviews.0\n');
});

test('a local reply logs its flag and details, and missing upstream values as -', () => {
  const r = compileTextFormat(ISTIO_TEXT_FORMAT);
  assert.ok(r.ok);
  const line = r.format.render(entry({ status: 503, flag: 'UH', details: 'no_healthy_upstream', upstreamHost: undefined, upstreamServiceTimeMs: undefined }));
  assert.match(line, /" 503 UH no_healthy_upstream - "-" 0 358 6 - "-"/);
  assert.match(line, /"abc-123" "reviews.default:9080" "-" inbound-vip/);
});

test('x-envoy-original-path is preferred over :path', () => {
  const r = compileTextFormat('%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%');
  assert.ok(r.ok);
  assert.equal(r.format.render(entry({ requestHeaders: new HeaderList(['x-envoy-original-path', '/orig']) })), '/orig\n');
  assert.equal(r.format.render(entry()), '/api/v1?x=1\n');
});

test('JSON form has Istio keys in order, typed numbers and null for missing values', () => {
  const r = compileJsonFormat(ISTIO_JSON_LABELS);
  assert.ok(r.ok);
  const line = r.format.render(entry({ upstreamHost: undefined, requestHeaders: new HeaderList(['host', 'h', 'user-agent', 'quote"and\\slash']) }));
  assert.ok(line.endsWith('}\n'));
  const obj = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(Object.keys(obj), ISTIO_JSON_LABELS.map(([k]) => k));
  assert.equal(obj['response_code'], 200);
  assert.equal(obj['bytes_sent'], 358);
  assert.equal(obj['duration'], 6);
  assert.equal(obj['upstream_service_time'], '4');
  assert.equal(obj['response_flags'], '-');
  assert.equal(obj['upstream_host'], null);
  assert.equal(obj['user_agent'], 'quote"and\\slash');
  assert.equal(obj['start_time'], '2026-10-09T08:07:10.309Z');
});

const custom: ReadonlyArray<{ name: string; format: string; want: string }> = [
  { name: 'literal percent and truncation', format: '100%% %REQ(USER-AGENT):4%', want: '100% curl\n' },
  { name: 'peer identity and trace id operators', format: '%DOWNSTREAM_PEER_URI_SAN% %TRACE_ID%', want: '- -\n' },
  { name: 'method and authority pseudo-headers', format: '%REQ(:METHOD)% %REQ(:AUTHORITY)%', want: 'GET reviews.default:9080\n' },
];
for (const c of custom) {
  test(`custom text format: ${c.name}`, () => {
    const r = compileTextFormat(c.format);
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.equal(r.format.render(entry()), c.want);
  });
}

for (const bad of ['%NOT_AN_OPERATOR%', '%RESP(CONTENT-TYPE)%', '%START_TIME(%s)%', '%REQ()%', '%broken']) {
  test(`unsupported operator is refused with a message: ${bad}`, () => {
    const r = compileTextFormat(bad);
    assert.equal(r.ok, false);
  });
}

test('START_TIME keeps milliseconds exact across seconds (the per-second cache)', () => {
  const r = compileTextFormat('%START_TIME%');
  assert.ok(r.ok);
  const at = (iso: string, extra = 0): string => r.format.render({ ...entry(), startTime: Date.parse(iso) + extra });
  assert.equal(at('2026-10-09T08:07:10.005Z'), '2026-10-09T08:07:10.005Z\n');
  assert.equal(at('2026-10-09T08:07:10.050Z', 0.9), '2026-10-09T08:07:10.050Z\n');
  assert.equal(at('2026-10-09T08:07:11.999Z'), '2026-10-09T08:07:11.999Z\n');
  assert.equal(at('2026-10-09T08:07:10.000Z'), '2026-10-09T08:07:10.000Z\n');
});
