// Tests for compile(): waypoint selection, which Services are served and get listeners (route status
// and parentRef matching are in compile-routes.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumpSnapshot } from '../dump.js';
import { parseConfigText } from '../source/yaml-documents.js';
import type { Condition } from '../status.js';
import { compile, type CompileResult } from './index.js';

type Obj = Readonly<Record<string, unknown>>;

/** One YAML document; every value is written as JSON (which is YAML). */
function doc(apiVersion: string, kind: string, metadata: Obj, body: Obj = {}): string {
  const rest = Object.entries(body).map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: ${JSON.stringify(metadata)}\n${rest}`;
}
const GW_API = 'gateway.networking.k8s.io/v1';
const HBONE = [{ name: 'mesh', port: 15008, protocol: 'HBONE' }];
const ns = (name: string, labels: Obj = {}): string => doc('v1', 'Namespace', { name, labels });
const waypoint = (namespace: string, name = 'waypoint', labels: Obj = {}, spec: Obj = {}): string =>
  doc(GW_API, 'Gateway', { name, namespace, labels }, { spec: { gatewayClassName: 'istio-waypoint', listeners: HBONE, ...spec } });
const service = (namespace: string, name: string, spec: Obj, labels: Obj = {}): string =>
  doc('v1', 'Service', { name, namespace, labels }, { spec: { ports: [{ name: 'http', port: 80 }], ...spec } });

/** An enrolled namespace `apps` with its waypoint. */
const BASE = [ns('apps', { 'istio.io/use-waypoint': 'waypoint' }), waypoint('apps')];

function run(docs: ReadonlyArray<string>, wanted?: string): CompileResult {
  const parsed = parseConfigText(docs.join('---\n'), 'test.yaml', 0);
  assert.deepEqual(parsed.diagnostics, [], 'the test input parses');
  return compile(parsed.resources, { waypoint: wanted, clusterDomain: 'cluster.local', version: 7 });
}
const codes = (r: { diagnostics: ReadonlyArray<{ code: string }> }): string[] => r.diagnostics.map((d) => d.code);
const short = (cs: ReadonlyArray<Condition>): string[] => cs.map((c) => `${c.type}=${c.status}/${c.reason}`);

// ---- waypoint selection -------------------------------------------------------------------------

const selectionCases: ReadonlyArray<{ name: string; docs: string[]; wanted?: string; ok: boolean; message?: RegExp; selected?: string }> = [
  { name: 'the only istio-waypoint Gateway is selected', docs: BASE, ok: true, selected: 'apps/waypoint' },
  { name: 'no Gateway at all fails', docs: [ns('apps')], ok: false, message: /^no Gateway of class istio-waypoint in the config/ },
  { name: 'a Gateway of another class is not a waypoint', docs: [waypoint('apps', 'ingress', {}, { gatewayClassName: 'istio' })], ok: false, message: /^no Gateway of class istio-waypoint/ },
  { name: 'several waypoints without --waypoint fail, naming them', docs: [waypoint('a'), waypoint('b')], ok: false, message: /^2 Gateways of class istio-waypoint \(a\/waypoint, b\/waypoint\): choose one with --waypoint/ },
  { name: '--waypoint picks one of several', docs: [waypoint('a'), waypoint('b')], wanted: 'b/waypoint', ok: true, selected: 'b/waypoint' },
  { name: '--waypoint naming a missing Gateway fails', docs: BASE, wanted: 'apps/nope', ok: false, message: /^waypoint Gateway apps\/nope \(from --waypoint\) not found in the config$/ },
  { name: '--waypoint naming a Gateway of the wrong class fails', docs: [...BASE, waypoint('apps', 'ingress', {}, { gatewayClassName: 'istio' })], wanted: 'apps/ingress', ok: false, message: /^Gateway apps\/ingress has gatewayClassName "istio"; a waypoint needs "istio-waypoint" or "waypoint"$/ },
  { name: 'a Gateway of our own class `waypoint` is a waypoint too', docs: [ns('apps'), waypoint('apps', 'own', {}, { gatewayClassName: 'waypoint' })], ok: true, selected: 'apps/own' },
];
for (const c of selectionCases) {
  test(`waypoint selection: ${c.name}`, () => {
    const r = run(c.docs, c.wanted);
    assert.equal(r.ok, c.ok);
    if (r.ok) {
      assert.equal(dumpSnapshot(r.snapshot).waypoint, c.selected);
      assert.equal(r.snapshot.version, 7);
      return;
    }
    const errors = r.diagnostics.filter((d) => d.code === 'no-waypoint');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.severity, 'error');
    assert.match(errors[0]?.message ?? '', c.message ?? /./);
    assert.deepEqual(r.status.gateways, []);
  });
}

const waypointForCases: ReadonlyArray<{ value: string | undefined; serves: boolean }> = [
  { value: undefined, serves: true }, { value: 'service', serves: true }, { value: 'all', serves: true }, { value: 'ALL', serves: true },
  { value: 'workload', serves: false }, { value: 'none', serves: false },
];
for (const c of waypointForCases) {
  test(`istio.io/waypoint-for=${c.value ?? '(unset)'}: Services are ${c.serves ? '' : 'not '}served`, () => {
    const labels = c.value === undefined ? {} : { 'istio.io/waypoint-for': c.value };
    const r = run([ns('apps', { 'istio.io/use-waypoint': 'waypoint' }), waypoint('apps', 'waypoint', labels), service('apps', 'web', { clusterIP: '127.1.0.1' })]);
    assert.ok(r.ok);
    const d = dumpSnapshot(r.snapshot);
    assert.deepEqual(d.services.length, c.serves ? 1 : 0);
    assert.deepEqual(d.listeners.length, c.serves ? 1 : 0);
    assert.equal(codes(r).includes('waypoint-for'), !c.serves);
    const binding = r.snapshot.status.services[0];
    assert.equal(binding?.servedHere, c.serves);
    assert.deepEqual(binding?.conditions.map((x) => `${x.status}/${x.reason}`), [c.serves ? 'True/WaypointAccepted' : 'False/WaypointNotFound']);
    if (!c.serves) assert.match(binding?.conditions[0]?.message ?? '', /does not accept Service traffic/);
  });
}

test('a waypoint Gateway with a non-HBONE listener gets listener Accepted=False UnsupportedProtocol and a warning', () => {
  const r = run([waypoint('apps', 'waypoint', {}, { listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] })]);
  assert.ok(r.ok);
  assert.deepEqual(short(r.snapshot.status.gateways[0]?.listeners[0]?.conditions ?? []), ['Accepted=False/UnsupportedProtocol']);
  assert.deepEqual(codes(r), ['unsupported-listener']);
});

// ---- served Services and listeners --------------------------------------------------------------

const listenerCases: ReadonlyArray<{ name: string; docs: string[]; listeners: string[]; services: string[]; codes: string[] }> = [
  { name: 'a served Service with a loopback VIP gets one listener per port', docs: [...BASE, service('apps', 'web', { clusterIP: '127.1.0.1', ports: [{ name: 'http', port: 80 }, { port: 81 }] })], listeners: ['127.1.0.1:80', '127.1.0.1:81'], services: ['apps/web'], codes: [] },
  // No local socket, but an HBONE-only destination (dumped with `bind: hbone-only`, never bound by VipListenerSet).
  { name: 'a served Service with a cluster VIP gets an HBONE-only listener', docs: [...BASE, service('apps', 'web', { clusterIP: '10.96.0.1' })], listeners: ['10.96.0.1:80'], services: ['apps/web'], codes: ['vip-not-local'] },
  { name: 'a headless served Service gets no listener', docs: [...BASE, service('apps', 'web', { clusterIP: 'None' })], listeners: [], services: ['apps/web'], codes: [] },
  { name: 'a served Service without clusterIP gets no listener', docs: [...BASE, service('apps', 'web', {})], listeners: [], services: ['apps/web'], codes: [] },
  { name: 'a loopback Service that is not enrolled gets no listener', docs: [...BASE, service('other', 'web', { clusterIP: '127.1.0.1' })], listeners: [], services: [], codes: [] },
  { name: 'a loopback Service bound to another waypoint gets no listener', docs: [...BASE, service('apps', 'web', { clusterIP: '127.1.0.1' }, { 'istio.io/use-waypoint': 'other' })], listeners: [], services: [], codes: [] },
  { name: 'a UDP port is neither served nor listened on', docs: [...BASE, service('apps', 'dns', { clusterIP: '127.1.0.1', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'tcp', port: 54 }] })], listeners: ['127.1.0.1:54'], services: ['apps/dns'], codes: ['unsupported-protocol'] },
  { name: 'ExternalName Services are not served', docs: [...BASE, service('apps', 'ext', { type: 'ExternalName', externalName: 'example.com' })], listeners: [], services: [], codes: ['unsupported-service'] },
  { name: 'a duplicate VIP:port is an error and the first Service (by name) keeps it', docs: [...BASE, service('apps', 'b', { clusterIP: '127.1.0.1' }), service('apps', 'a', { clusterIP: '127.1.0.1', ports: [{ port: 80 }, { port: 81 }] })], listeners: ['127.1.0.1:80', '127.1.0.1:81'], services: ['apps/a', 'apps/b'], codes: ['duplicate-vip'] },
  { name: 'the same loopback IP on different ports is not a duplicate', docs: [...BASE, service('apps', 'a', { clusterIP: '127.1.0.1' }), service('apps', 'b', { clusterIP: '127.1.0.1', ports: [{ port: 81 }] })], listeners: ['127.1.0.1:80', '127.1.0.1:81'], services: ['apps/a', 'apps/b'], codes: [] },
];
for (const c of listenerCases) {
  test(`listeners: ${c.name}`, () => {
    const r = run(c.docs);
    assert.ok(r.ok);
    const d = dumpSnapshot(r.snapshot);
    assert.deepEqual(d.listeners.map((l) => (l as { address: string }).address), c.listeners);
    assert.deepEqual(d.services.map((s) => (s as { service: string }).service), c.services);
    assert.deepEqual(codes(r), c.codes);
  });
}

test('listeners: the duplicate-vip error names the Service that holds the VIP', () => {
  const r = run([...BASE, service('apps', 'b', { clusterIP: '127.1.0.1' }), service('apps', 'a', { clusterIP: '127.1.0.1' })]);
  const [d] = r.diagnostics;
  assert.deepEqual(d && [d.severity, d.resource, d.path], ['error', 'Service apps/b', 'spec.clusterIP']);
  assert.match(d?.message ?? '', /^127\.1\.0\.1:80 is already the VIP of Service apps\/a;/);
  assert.ok(r.ok);
  assert.equal(r.snapshot.listeners.get('127.1.0.1:80')?.service.key, 'apps/a');
});

test('an ExternalName Service is not reported as served in its binding status', () => {
  const r = run([...BASE, service('apps', 'ext', { type: 'ExternalName', externalName: 'example.com' })]);
  assert.ok(r.ok);
  assert.equal(r.snapshot.status.services[0]?.servedHere, false);
});

test('a TCP port keeps its own cluster when a UDP port has the same number', () => {
  const slice = doc('discovery.k8s.io/v1', 'EndpointSlice', { name: 'dns-1', namespace: 'apps', labels: { 'kubernetes.io/service-name': 'dns' } },
    { addressType: 'IPv4', ports: [{ name: 'dns-tcp', port: 5353 }, { name: 'dns', port: 9053, protocol: 'UDP' }], endpoints: [{ addresses: ['10.0.0.1'] }] });
  const r = run([...BASE, slice, service('apps', 'dns', { ports: [{ name: 'dns-tcp', port: 53, targetPort: 5353 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 9053 }] })]);
  assert.ok(r.ok);
  assert.deepEqual(r.snapshot.services.get('apps/dns')?.ports[0]?.cluster.endpoints.map((e) => e.key), ['10.0.0.1:5353']);
});

test('a clusterIP that is not an IP address is rejected, not turned into a listener', () => {
  const r = run([...BASE, service('apps', 'web', { clusterIP: '127.300.0.1' })]);
  assert.ok(r.ok);
  assert.deepEqual([...r.snapshot.listeners.keys()], []);
  assert.ok(r.diagnostics.some((d) => d.severity === 'error' && d.path === 'spec.clusterIP'));
});
