// Tests for endpointsFor and slicesByService: which EndpointSlice endpoints serve a Service port and at
// which target port (Kubernetes semantics: the slice port carries the Service port's name).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type EndpointSliceBody, endpointSliceBody, type ServicePort, servicePort } from '../model/core.js';
import type { RawResource } from '../resource.js';
import type { Valid } from '../validate/validate.js';
import { endpointsFor, SERVICE_NAME_LABEL, slicesByService } from './endpoints.js';

/** A validated slice built from its body (defaults filled by the real schema). */
function slice(body: unknown, meta: { name?: string; namespace?: string; labels?: Record<string, string> } = {}): Valid<EndpointSliceBody> {
  const namespace = meta.namespace ?? 'apps';
  const name = meta.name ?? 'slice';
  const raw: RawResource = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: meta.labels ?? {}, annotations: {}, creationTimestamp: undefined, generation: undefined, resourceVersion: undefined },
    object: {},
    origin: { file: 'test.yaml', doc: 0, line: 1, lineOf: () => undefined },
    seq: 0,
  };
  return { raw, spec: endpointSliceBody.parse(body), key: `${namespace}/${name}`, created: Infinity };
}

function port(p: unknown): ServicePort {
  return servicePort.parse(p);
}

const HTTP = port({ name: 'http', port: 80, targetPort: 8080 });
const httpPorts = [{ name: 'http', port: 8080 }];

/** `key` of every endpoint, the compact form most cases compare. */
function keys(p: ServicePort, slices: ReadonlyArray<Valid<EndpointSliceBody>>): string[] {
  return endpointsFor(p, slices).map((e) => e.key);
}

interface Case {
  readonly name: string;
  readonly port: ServicePort;
  readonly slices: ReadonlyArray<unknown>;
  readonly want: ReadonlyArray<string>;
}

const ep = (address: string, conditions?: Record<string, boolean>): Record<string, unknown> =>
  conditions === undefined ? { addresses: [address] } : { addresses: [address], conditions };

const cases: ReadonlyArray<Case> = [
  { name: 'ready unset (nil) counts as ready', port: HTTP, slices: [{ addressType: 'IPv4', ports: httpPorts, endpoints: [ep('10.0.0.1')] }], want: ['10.0.0.1:8080'] },
  { name: 'ready true is used', port: HTTP, slices: [{ addressType: 'IPv4', ports: httpPorts, endpoints: [ep('10.0.0.1', { ready: true })] }], want: ['10.0.0.1:8080'] },
  { name: 'ready false is skipped', port: HTTP, slices: [{ addressType: 'IPv4', ports: httpPorts, endpoints: [ep('10.0.0.1', { ready: false })] }], want: [] },
  { name: 'serving but not ready is skipped', port: HTTP, slices: [{ addressType: 'IPv4', ports: httpPorts, endpoints: [ep('10.0.0.1', { ready: false, serving: true })] }], want: [] },
  { name: 'terminating is skipped', port: HTTP, slices: [{ addressType: 'IPv4', ports: httpPorts, endpoints: [ep('10.0.0.1', { terminating: true })] }], want: [] },
  {
    name: 'slice port is found by the Service port name, not by position',
    port: HTTP,
    slices: [{ addressType: 'IPv4', ports: [{ name: 'metrics', port: 9090 }, { name: 'http', port: 8081 }], endpoints: [ep('10.0.0.1')] }],
    want: ['10.0.0.1:8081'],
  },
  {
    name: 'an unnamed Service port matches the unnamed slice port',
    port: port({ port: 80, targetPort: 8080 }),
    slices: [{ addressType: 'IPv4', ports: [{ port: 8082 }], endpoints: [ep('10.0.0.1')] }],
    want: ['10.0.0.1:8082'],
  },
  {
    name: 'a named targetPort is found among the slice ports',
    port: port({ name: 'web', port: 80, targetPort: 'http-alt' }),
    slices: [{ addressType: 'IPv4', ports: [{ name: 'http-alt', port: 8083 }], endpoints: [ep('10.0.0.1')] }],
    want: ['10.0.0.1:8083'],
  },
  {
    name: 'slice ports that name neither the Service port nor its targetPort give no endpoints',
    port: HTTP,
    slices: [{ addressType: 'IPv4', ports: [{ name: 'grpc', port: 9000 }], endpoints: [ep('10.0.0.1')] }],
    want: [],
  },
  { name: 'a slice without ports uses a numeric targetPort', port: HTTP, slices: [{ addressType: 'IPv4', endpoints: [ep('10.0.0.1')] }], want: ['10.0.0.1:8080'] },
  { name: 'a slice without ports and no targetPort falls back to the Service port', port: port({ name: 'http', port: 80 }), slices: [{ addressType: 'IPv4', endpoints: [ep('10.0.0.1')] }], want: ['10.0.0.1:80'] },
  { name: 'a slice without ports cannot resolve a named targetPort', port: port({ name: 'web', port: 80, targetPort: 'http' }), slices: [{ addressType: 'IPv4', endpoints: [ep('10.0.0.1')] }], want: [] },
  { name: 'FQDN slices are ignored', port: HTTP, slices: [{ addressType: 'FQDN', ports: httpPorts, endpoints: [ep('backend.example.com')] }], want: [] },
  {
    name: 'the same address:port from two slices is listed once',
    port: HTTP,
    slices: [
      { addressType: 'IPv4', ports: httpPorts, endpoints: [ep('10.0.0.1'), ep('10.0.0.2')] },
      { addressType: 'IPv4', ports: httpPorts, endpoints: [ep('10.0.0.2'), ep('10.0.0.1')] },
    ],
    want: ['10.0.0.1:8080', '10.0.0.2:8080'],
  },
  {
    name: 'IPv6 endpoints are keyed [address]:port',
    port: HTTP,
    slices: [{ addressType: 'IPv6', ports: httpPorts, endpoints: [ep('fd00::1')] }],
    want: ['[fd00::1]:8080'],
  },
  {
    name: 'endpoints are sorted by key and only the first address of an endpoint is used',
    port: HTTP,
    slices: [{ addressType: 'IPv4', ports: httpPorts, endpoints: [{ addresses: ['10.0.0.9', '10.0.0.8'] }, ep('10.0.0.3')] }],
    want: ['10.0.0.3:8080', '10.0.0.9:8080'],
  },
  {
    name: 'each slice resolves the port with its own ports list',
    port: HTTP,
    slices: [
      { addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [ep('10.0.0.1')] },
      { addressType: 'IPv4', ports: [{ name: 'http', port: 9080 }], endpoints: [ep('10.0.0.2')] },
    ],
    want: ['10.0.0.1:8080', '10.0.0.2:9080'],
  },
];

for (const c of cases) {
  test(`endpointsFor: ${c.name}`, () => {
    assert.deepEqual(keys(c.port, c.slices.map((s) => slice(s))), c.want);
  });
}

test('endpointsFor: an endpoint carries address, port and the workload its targetRef names', () => {
  const s = slice({
    addressType: 'IPv4',
    ports: httpPorts,
    endpoints: [
      { addresses: ['10.0.0.1'], targetRef: { kind: 'Pod', name: 'web-0' } },
      { addresses: ['10.0.0.2'], targetRef: { name: 'web-1', namespace: 'elsewhere' } },
      { addresses: ['10.0.0.3'] },
    ],
  });
  assert.deepEqual(endpointsFor(HTTP, [s]), [
    { key: '10.0.0.1:8080', address: '10.0.0.1', port: 8080, workload: 'Pod apps/web-0' },
    { key: '10.0.0.2:8080', address: '10.0.0.2', port: 8080, workload: 'Pod elsewhere/web-1' },
    { key: '10.0.0.3:8080', address: '10.0.0.3', port: 8080, workload: undefined },
  ]);
});

test('endpointsFor: an IPv6 endpoint keeps the bare address and the resolved port', () => {
  const [e] = endpointsFor(HTTP, [slice({ addressType: 'IPv6', ports: httpPorts, endpoints: [ep('::1')] })]);
  assert.deepEqual(e, { key: '[::1]:8080', address: '::1', port: 8080, workload: undefined });
});

test('slicesByService groups slices by namespace and kubernetes.io/service-name, skipping unlabelled ones', () => {
  const a1 = slice({ addressType: 'IPv4' }, { name: 'a1', namespace: 'apps', labels: { [SERVICE_NAME_LABEL]: 'a' } });
  const a2 = slice({ addressType: 'IPv4' }, { name: 'a2', namespace: 'apps', labels: { [SERVICE_NAME_LABEL]: 'a' } });
  const otherA = slice({ addressType: 'IPv4' }, { name: 'a3', namespace: 'other', labels: { [SERVICE_NAME_LABEL]: 'a' } });
  const unlabelled = slice({ addressType: 'IPv4' }, { name: 'x', namespace: 'apps' });
  const grouped = slicesByService([a1, otherA, unlabelled, a2]);
  assert.deepEqual([...grouped.keys()].sort(), ['apps/a', 'other/a']);
  assert.deepEqual(grouped.get('apps/a')?.map((s) => s.key), ['apps/a1', 'apps/a2']);
  assert.deepEqual(grouped.get('other/a')?.map((s) => s.key), ['other/a3']);
});
