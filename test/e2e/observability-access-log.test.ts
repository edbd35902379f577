// End to end: access logs in Istio's default text format and its JSON form, switched on by MeshConfig
// (accessLogFile, accessLogEncoding) or by a Telemetry resource (targetRefs, providers, filter), with
// response flags and details of local replies. Lines are parsed back into the documented fields.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { type ObservedMesh, startObservedMesh } from './observability-mesh.js';

const vip = vipRange();
let mesh: ObservedMesh;
let web: Backend;
const stamp = `${process.pid}-${Date.now()}`;
const textLog = path.join(os.tmpdir(), `waypoint-access-${stamp}.log`);
const jsonLog = path.join(os.tmpdir(), `waypoint-access-${stamp}.json`);
const errorLog = path.join(os.tmpdir(), `waypoint-errors-${stamp}.log`);

/** Istio's default text format, field by field (facts 8.3). */
const TEXT_LINE = new RegExp(
  '^\\[(?<start_time>[^\\]]+)\\] "(?<method>\\S+) (?<path>\\S+) (?<protocol>\\S+)" (?<response_code>\\d+) (?<response_flags>\\S+) (?<response_code_details>\\S+) ' +
  '(?<connection_termination_details>\\S+) "(?<upstream_transport_failure_reason>[^"]*)" (?<bytes_received>\\d+) (?<bytes_sent>\\d+) (?<duration>\\d+) ' +
  '(?<upstream_service_time>\\S+) "(?<x_forwarded_for>[^"]*)" "(?<user_agent>[^"]*)" "(?<request_id>[^"]*)" "(?<authority>[^"]*)" "(?<upstream_host>[^"]*)" ' +
  '(?<upstream_cluster>\\S+) (?<upstream_local_address>\\S+) (?<downstream_local_address>\\S+) (?<downstream_remote_address>\\S+) (?<requested_server_name>\\S+) (?<route_name>\\S+)$',
);

before(async () => {
  web = await startBackend('web');
  mesh = await startObservedMesh({
    'mesh.yaml': meshPreamble()
      + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] })
      + serviceYaml({ name: 'empty', vip: vip(2), endpoints: [] })
      + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ group: "", kind: Service, name: web }]
  rules: [{ matches: [{ path: { type: PathPrefix, value: /api } }], backendRefs: [{ name: web, port: 80 }] }]
`,
  }, `accessLogFile: ${textLog}\n`);
});

after(async () => {
  await mesh.close();
  await web.close();
  for (const f of [textLog, jsonLog, errorLog]) await import('node:fs/promises').then((fs) => fs.rm(f, { force: true }));
});

async function lines(file: string, n: number): Promise<string[]> {
  const start = Date.now();
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const all = text.split('\n').filter((l) => l !== '');
    if (all.length >= n) return all;
    if (Date.now() - start > 10_000) throw new Error(`${file}: ${all.length} lines, expected ${n}:\n${text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('MeshConfig accessLogFile: one text line per request with the documented fields', async () => {
  const ok = await request(vip(1), 80, { path: '/api/items?x=1', method: 'POST', body: 'hello', headers: { 'user-agent': 'test-agent/1', 'x-request-id': 'req-1', 'x-forwarded-for': '10.0.0.9' } });
  assert.equal(ok.status, 200);
  assert.equal((await request(vip(1), 80, { path: '/nowhere', headers: { 'x-request-id': 'req-2' } })).status, 404);
  assert.equal((await request(vip(2), 80, { path: '/', headers: { 'x-request-id': 'req-3' } })).status, 503);
  const got = (await lines(textLog, 3)).map((l) => {
    const m = TEXT_LINE.exec(l);
    assert.ok(m?.groups !== undefined, `line does not parse: ${l}`);
    return m.groups;
  });
  const [a, b, c] = got as [Record<string, string>, Record<string, string>, Record<string, string>];
  assert.ok(Math.abs(Date.parse(a['start_time'] ?? '') - Date.now()) < 60_000);
  assert.match(a['start_time'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(
    { method: a['method'], path: a['path'], protocol: a['protocol'], code: a['response_code'], flags: a['response_flags'], details: a['response_code_details'], received: a['bytes_received'], ua: a['user_agent'], id: a['request_id'], xff: a['x_forwarded_for'], route: a['route_name'] },
    { method: 'POST', path: '/api/items?x=1', protocol: 'HTTP/1.1', code: '200', flags: '-', details: 'via_upstream', received: '5', ua: 'test-agent/1', id: 'req-1', xff: '10.0.0.9', route: 'default.web.0' },
  );
  assert.equal(a['upstream_host'], `127.0.0.1:${web.port}`);
  assert.equal(a['upstream_cluster'], 'inbound-vip|80|http|web.default.svc.cluster.local');
  assert.equal(a['downstream_local_address'], `${vip(1)}:80`);
  assert.match(a['downstream_remote_address'] ?? '', /^127\.0\.0\.1:\d+$/);
  assert.equal(a['bytes_sent'], String(Buffer.byteLength(ok.body)));
  assert.match(a['upstream_service_time'] ?? '', /^\d+$/);
  assert.deepEqual([b['response_code'], b['response_flags'], b['response_code_details'], b['upstream_host'], b['request_id']], ['404', 'NR', 'route_not_found', '-', 'req-2']);
  assert.deepEqual([c['response_code'], c['response_flags'], c['response_code_details'], c['bytes_sent'], c['upstream_service_time']], ['503', 'UH', 'no_healthy_upstream', '19', '-']);
});

test('accessLogEncoding JSON: the same facts as JSON objects with Istio keys', async () => {
  await mesh.writeMesh(`accessLogFile: ${jsonLog}\naccessLogEncoding: JSON\n`);
  assert.equal((await request(vip(1), 80, { path: '/api/json', headers: { 'x-request-id': 'j-1' } })).status, 200);
  assert.equal((await request(vip(2), 80, { headers: { 'x-request-id': 'j-2' } })).status, 503);
  const [ok, uh] = (await lines(jsonLog, 2)).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(ok?.['request_id'], 'j-1');
  assert.equal(ok?.['response_code'], 200);
  assert.equal(ok?.['path'], '/api/json');
  assert.equal(ok?.['method'], 'GET');
  assert.equal(ok?.['route_name'], 'default.web.0');
  assert.equal(typeof ok?.['duration'], 'number');
  assert.equal(ok?.['upstream_cluster'], 'inbound-vip|80|http|web.default.svc.cluster.local');
  assert.equal(uh?.['response_flags'], 'UH');
  assert.equal(uh?.['response_code_details'], 'no_healthy_upstream');
  assert.equal(uh?.['upstream_host'], null);
  assert.ok(Object.keys(ok ?? {}).includes('upstream_transport_failure_reason'));
});

test('a Telemetry resource targets one Service: its own provider, custom format and an errors-only filter', async () => {
  await mesh.writeMesh(`accessLogFile: ${textLog}
extensionProviders:
  - name: errors
    envoyFileAccessLog:
      path: ${errorLog}
      logFormat:
        text: "%RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(X-REQUEST-ID)% %ROUTE_NAME%"
`);
  await mesh.write('telemetry.yaml', `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: empty-errors, namespace: default }
spec:
  targetRefs: [{ kind: Service, group: "", name: empty }]
  accessLogging:
    - providers: [{ name: errors }]
      filter: { expression: "response.code >= 500" }
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: web-off, namespace: default }
spec:
  targetRefs: [{ kind: Service, group: "", name: web }]
  accessLogging: [{ disabled: true }]
`);
  const before = (await readFile(textLog, 'utf8')).split('\n').filter((l) => l !== '').length;
  await request(vip(1), 80, { path: '/api/quiet', headers: { 'x-request-id': 't-1' } });
  await request(vip(2), 80, { headers: { 'x-request-id': 't-2' } });
  assert.deepEqual(await lines(errorLog, 1), ['503 UH t-2 default']);
  await new Promise((r) => setTimeout(r, 100));
  const text = await readFile(textLog, 'utf8');
  assert.equal(text.split('\n').filter((l) => l !== '').length, before, 'web has logging disabled, empty logs only to its own provider');
  assert.ok(!text.includes('t-1') && !text.includes('t-2'));
});
