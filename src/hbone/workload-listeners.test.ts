import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '../config/compile/index.js';
import { parseConfigText } from '../config/source/yaml-documents.js';

type Obj = Readonly<Record<string, unknown>>;

function doc(apiVersion: string, kind: string, metadata: Obj, body: Obj = {}): string {
  const rest = Object.entries(body).map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: ${JSON.stringify(metadata)}\n${rest}`;
}
const gateway = (labels: Obj): string => doc('gateway.networking.k8s.io/v1', 'Gateway', { name: 'waypoint', namespace: 'apps', labels },
  { spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } });
const ns = (labels: Obj): string => doc('v1', 'Namespace', { name: 'apps', labels });
const pod = (name: string, ip: string, labels: Obj = {}, ports: ReadonlyArray<number> = []): string => doc('v1', 'Pod', { name, namespace: 'apps', labels },
  { spec: { containers: [{ name: 'app', image: 'x', ports: ports.map((p) => ({ containerPort: p })) }] }, status: { podIP: ip } });
const service = doc('v1', 'Service', { name: 'web', namespace: 'apps' }, { spec: { clusterIP: '10.96.0.1', ports: [{ name: 'grpc', port: 80 }] } });
const slice = doc('discovery.k8s.io/v1', 'EndpointSlice', { name: 'web-1', namespace: 'apps', labels: { 'kubernetes.io/service-name': 'web' } }, {
  addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }],
  endpoints: [{ addresses: ['10.0.0.1'], targetRef: { kind: 'Pod', name: 'web-0', namespace: 'apps' } }, { addresses: ['10.0.0.2'], targetRef: { kind: 'Pod', name: 'web-1', namespace: 'apps' } }],
});
const USE = { 'istio.io/use-waypoint': 'waypoint' };

/** `ip:port → protocol workload cluster endpoint` of every workload listener. */
function workloadListeners(docs: ReadonlyArray<string>): string[] {
  const parsed = parseConfigText(docs.join('---\n'), 'test.yaml', 0);
  assert.deepEqual(parsed.diagnostics, []);
  const r = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1 });
  assert.ok(r.ok);
  return [...r.snapshot.listeners.values()].filter((l) => l.workload !== undefined)
    .map((l) => `${l.key} ${l.servicePort.protocol} ${l.workload ?? ''} ${l.servicePort.cluster.id} ${l.servicePort.cluster.endpoints.map((e) => e.key).join(',')}`)
    .sort();
}

const cases: ReadonlyArray<{ name: string; docs: string[]; want: string[] }> = [
  {
    name: 'waypoint-for all: each Pod of the namespace on its slice target port, pinned to itself, protocol from the Service port',
    docs: [ns(USE), gateway({ 'istio.io/waypoint-for': 'all' }), service, slice, pod('web-0', '10.0.0.1'), pod('web-1', '10.0.0.2')],
    want: ['10.0.0.1:9090 grpc Pod apps/web-0 encap 10.0.0.1:9090', '10.0.0.2:9090 grpc Pod apps/web-1 encap 10.0.0.2:9090'],
  },
  {
    name: 'waypoint-for workload works the same; container ports add listeners (sniffed)',
    docs: [ns(USE), gateway({ 'istio.io/waypoint-for': 'workload' }), service, slice, pod('web-0', '10.0.0.1', {}, [7000])],
    want: ['10.0.0.1:7000 unknown Pod apps/web-0 encap 10.0.0.1:7000', '10.0.0.1:9090 grpc Pod apps/web-0 encap 10.0.0.1:9090'],
  },
  { name: 'waypoint-for service (the default): none', docs: [ns(USE), gateway({}), service, slice, pod('web-0', '10.0.0.1')], want: [] },
  {
    name: 'a Pod label opts out (none) or names another waypoint',
    docs: [ns(USE), gateway({ 'istio.io/waypoint-for': 'all' }), service, slice, pod('web-0', '10.0.0.1', { 'istio.io/use-waypoint': 'none' }), pod('web-1', '10.0.0.2', { 'istio.io/use-waypoint': 'other' })],
    want: [],
  },
  {
    name: 'a Pod label enrolls it without the namespace label',
    docs: [ns({}), gateway({ 'istio.io/waypoint-for': 'all' }), service, slice, pod('web-1', '10.0.0.2', USE)],
    want: ['10.0.0.2:9090 grpc Pod apps/web-1 encap 10.0.0.2:9090'],
  },
  { name: 'a Pod with no IP and no slice gets nothing', docs: [ns(USE), gateway({ 'istio.io/waypoint-for': 'all' }), doc('v1', 'Pod', { name: 'x', namespace: 'apps' }, { spec: {} })], want: [] },
  { name: 'a non-IP status.podIP is ignored', docs: [ns(USE), gateway({ 'istio.io/waypoint-for': 'all' }), pod('web-0', 'not-an-ip', {}, [80])], want: [] },
];
for (const c of cases) test(c.name, () => assert.deepEqual(workloadListeners(c.docs), c.want));
