// VirtualService compile: which VS applies to which Service (hosts forms, namespace, exportTo, gateways),
// HTTPRoute shadowing, IST0109 merging, the route table VS order builds, and bad input rejected with its field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../diagnostics.js';
import { parseConfigText } from '../source/yaml-documents.js';
import type { RouteEntry, Snapshot } from '../snapshot.js';
import { compile } from './index.js';

const PREAMBLE = `apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {istio.io/use-waypoint: waypoint}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {istio.io/use-waypoint: waypoint}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: mesh}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
---
`;
const svc = (name: string, ns = 'apps', ports = '[{name: http, port: 80}]', ip = '127.1.0.1'): string =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}, labels: {istio.io/use-waypoint: waypoint, istio.io/use-waypoint-namespace: mesh}}\nspec: {clusterIP: ${ip}, ports: ${ports}}\n---\n`;
const vs = (name: string, spec: string, ns = 'apps', created = ''): string =>
  `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ${name}, namespace: ${ns}${created === '' ? '' : `, creationTimestamp: "${created}"`}}\nspec:\n${spec}\n---\n`;
const route = (name: string, parent: string): string =>
  `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: ${name}, namespace: apps}\nspec:\n  parentRefs: [{group: "", kind: Service, name: ${parent}}]\n  rules: [{backendRefs: [{name: ${parent}, port: 80}]}]\n---\n`;

function run(text: string): { snapshot: Snapshot; diagnostics: ReadonlyArray<Diagnostic> } {
  const parsed = parseConfigText(PREAMBLE + text, 'vs.yaml', 0);
  assert.deepEqual(parsed.diagnostics, []);
  const r = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1 });
  assert.ok(r.ok, 'compiles');
  return { snapshot: r.snapshot, diagnostics: r.diagnostics };
}

/** `name → clusters` of each entry of a Service port's table, or `default` for Service-default routing. */
function table(s: Snapshot, service: string, port = 80): string[] | 'default' {
  const p = s.services.get(service)?.ports.find((x) => x.port === port);
  assert.ok(p, `${service}:${port} is served`);
  if (p.http.kind === 'service-default') return 'default';
  return p.http.producer.map((e: RouteEntry) => `${e.name}${e.virtualService === undefined ? ' (gateway-api)' : ''} → ${e.action.kind === 'forward' ? e.action.backends.targets.map((t) => (t.kind === 'cluster' ? `${t.cluster.service}:${t.cluster.port}/${t.weight}` : `invalid/${t.weight}`)).join(',') : 'local reply'}`);
}

const codes = (d: ReadonlyArray<Diagnostic>): string[] =>
  d.filter((x) => x.resource?.startsWith('VirtualService') === true).map((x) => `${x.severity} ${x.code} ${x.resource ?? ''} ${x.path ?? ''}`);

const ROUTE_TO = (dest: string): string => `  http:\n  - route: [{destination: {host: ${dest}}}]`;

const cases: Array<{ name: string; text: string; service?: string; port?: number; table: string[] | 'default'; diags: string[] }> = [
  {
    name: 'short host in the VS namespace applies; the only port is the destination port',
    text: svc('a') + svc('b', 'apps', '[{name: http, port: 9080}]', '127.1.0.2') + vs('v', '  hosts: [a]\n' + ROUTE_TO('b')),
    table: ['apps.v.0 → apps/b:9080/100'], diags: [],
  },
  ...['a.apps', 'a.apps.svc', 'a.apps.svc.cluster.local', '*.apps.svc.cluster.local'].map((host) => ({
    name: `host form ${host} names the Service`,
    text: svc('a') + vs('v', `  hosts: ["${host}"]\n` + ROUTE_TO('a')),
    table: ['apps.v.0 → apps/a:80/100'], diags: [],
  })),
  {
    name: 'a short host in another namespace does not name the Service',
    text: svc('a') + vs('v', '  hosts: [a]\n' + ROUTE_TO('a'), 'other'),
    table: 'default', diags: ['info virtual-service-not-applied VirtualService other/v spec.hosts'],
  },
  {
    name: 'a VS in a third namespace with the FQDN is not used (service or waypoint namespace only)',
    text: svc('a') + vs('v', '  hosts: [a.apps.svc.cluster.local]\n' + ROUTE_TO('a.apps.svc.cluster.local'), 'other'),
    table: 'default', diags: ['warning virtual-service-not-applied VirtualService other/v spec.hosts[0]'],
  },
  {
    name: 'a VS in the waypoint namespace applies',
    text: svc('a') + vs('v', '  hosts: [a.apps.svc.cluster.local]\n' + ROUTE_TO('a.apps.svc.cluster.local'), 'mesh'),
    table: ['mesh.v.0 → apps/a:80/100'], diags: [],
  },
  {
    name: 'exportTo "." hides the VS from a waypoint in another namespace',
    text: svc('a') + vs('v', '  hosts: [a]\n  exportTo: ["."]\n' + ROUTE_TO('a')),
    table: 'default', diags: ['warning virtual-service-not-applied VirtualService apps/v spec.exportTo'],
  },
  {
    name: 'exportTo naming the waypoint namespace keeps it visible',
    text: svc('a') + vs('v', '  hosts: [a]\n  exportTo: [mesh]\n' + ROUTE_TO('a')),
    table: ['apps.v.0 → apps/a:80/100'], diags: [],
  },
  {
    name: 'gateways without mesh: not applied to the waypoint',
    text: svc('a') + vs('v', '  hosts: [a]\n  gateways: [istio-system/ingress]\n' + ROUTE_TO('a')),
    table: 'default', diags: ['info virtual-service-not-applied VirtualService apps/v spec.gateways'],
  },
  {
    name: 'an HTTPRoute on the Service shadows the VS (reported, the HTTPRoute applies)',
    text: svc('a') + route('r', 'a') + vs('v', '  hosts: [a]\n' + ROUTE_TO('a')),
    table: ['apps.r.0 (gateway-api) → apps/a:80/1'], diags: ['warning virtual-service-shadowed VirtualService apps/v spec.hosts'],
  },
  {
    name: 'two VS for one host: merged oldest first, IST0109 on both',
    text: svc('a') + svc('b', 'apps', '[{name: http, port: 80}]', '127.1.0.2')
      + vs('new', '  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]', 'apps', '2024-02-01T00:00:00Z')
      + vs('old', '  hosts: [a.apps.svc.cluster.local]\n  http:\n  - match: [{uri: {prefix: /b}}]\n    route: [{destination: {host: b}}]', 'apps', '2024-01-01T00:00:00Z'),
    table: ['apps.old.0 → apps/b:80/100', 'apps.new.0 → apps/a:80/100'],
    diags: ['warning virtual-service-conflict VirtualService apps/new spec.hosts[0]', 'warning virtual-service-conflict VirtualService apps/old spec.hosts[0]'],
  },
  {
    name: 'match order is kept (first match wins) and a catch-all ends the table',
    text: svc('a') + svc('b', 'apps', '[{name: http, port: 80}]', '127.1.0.2') + vs('v', `  hosts: [a]
  http:
  - name: exact
    match: [{uri: {exact: /x}}, {headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: b}, weight: 25}, {destination: {host: a}, weight: 75}]
  - name: all
    route: [{destination: {host: a}}]
  - name: unreachable
    route: [{destination: {host: b}}]`),
    table: ['exact → apps/b:80/25,apps/a:80/75', 'exact → apps/b:80/25,apps/a:80/75', 'all → apps/a:80/100'], diags: [],
  },
  {
    name: 'match.port keeps a match to its Service port; a port with no VS route keeps default routing',
    text: svc('a', 'apps', '[{name: http, port: 80}, {name: http-alt, port: 8080}]') + vs('v', `  hosts: [a]
  http:
  - match: [{port: 8080}]
    route: [{destination: {host: a, port: {number: 80}}}]`),
    table: 'default', diags: [],
  },
  {
    name: 'match.port applies on its port (listener port is the default destination port of a multi-port Service)',
    port: 8080,
    text: svc('a', 'apps', '[{name: http, port: 80}, {name: http-alt, port: 8080}]') + vs('v', `  hosts: [a]
  http:
  - match: [{port: 8080}]
    route: [{destination: {host: a}}]`),
    table: ['apps.v.0 → apps/a:8080/100'], diags: [],
  },
  {
    name: 'an unknown destination host answers 503 for its share; a subset is reported and ignored',
    text: svc('a') + vs('v', '  hosts: [a]\n  http:\n  - route: [{destination: {host: nope}, weight: 50}, {destination: {host: a, subset: v1}, weight: 50}]'),
    table: ['apps.v.0 → invalid/50,apps/a:80/50'],
    diags: ['error backend-not-found VirtualService apps/v spec.http[0].route[0].destination.host', 'warning subsets-unsupported VirtualService apps/v spec.http[0].route[1].destination.subset'],
  },
  {
    name: 'redirect and directResponse routes answer locally; sourceLabels, tcp and delegate are reported',
    text: svc('a') + vs('v', `  hosts: [a]
  tcp: [{route: [{destination: {host: a}}]}]
  http:
  - match: [{uri: {prefix: /old}, sourceLabels: {app: x}}]
    redirect: {uri: /new}
  - delegate: {name: d}
  - directResponse: {status: 418, body: {string: teapot}}`),
    table: ['apps.v.0 → local reply', 'apps.v.2 → local reply'],
    diags: ['warning unsupported-field VirtualService apps/v spec.tcp', 'warning unsupported-field VirtualService apps/v spec.http[0].match[0].sourceLabels', 'warning unsupported-field VirtualService apps/v spec.http[1].delegate'],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const { snapshot, diagnostics } = run(c.text);
    assert.deepEqual(table(snapshot, c.service ?? 'apps/a', c.port ?? 80), c.table);
    assert.deepEqual(codes(diagnostics).sort(), [...c.diags].sort());
  });
}

const rejected: Array<{ name: string; spec: string; path: string }> = [
  { name: 'route and redirect together', spec: '  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n    redirect: {uri: /x}', path: 'spec.http[0].redirect' },
  { name: 'a bad RE2 regex in a header match', spec: '  hosts: [a]\n  http:\n  - match: [{headers: {x: {regex: "a(b"}}}]\n    route: [{destination: {host: a}}]', path: 'spec.http[0].match[0].headers.x.regex' },
  { name: 'a bad uriRegexRewrite', spec: '  hosts: [a]\n  http:\n  - rewrite: {uriRegexRewrite: {match: "(", rewrite: x}}\n    route: [{destination: {host: a}}]', path: 'spec.http[0].rewrite.uriRegexRewrite.match' },
  { name: 'fault percentage over 100', spec: '  hosts: [a]\n  http:\n  - fault: {abort: {httpStatus: 500, percentage: {value: 101}}}\n    route: [{destination: {host: a}}]', path: 'spec.http[0].fault.abort.percentage.value' },
  { name: 'fault without delay or abort', spec: '  hosts: [a]\n  http:\n  - fault: {}\n    route: [{destination: {host: a}}]', path: 'spec.http[0].fault' },
  { name: 'abort status out of range', spec: '  hosts: [a]\n  http:\n  - fault: {abort: {httpStatus: 700, percentage: {value: 1}}}\n    route: [{destination: {host: a}}]', path: 'spec.http[0].fault.abort.httpStatus' },
  { name: 'unknown gRPC status name', spec: '  hosts: [a]\n  http:\n  - fault: {abort: {grpcStatus: NOPE, percentage: {value: 1}}}\n    route: [{destination: {host: a}}]', path: 'spec.http[0].fault.abort.grpcStatus' },
  { name: 'an unknown field', spec: '  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n    timeuot: 1s', path: 'spec.http[0].timeuot' },
  { name: 'a bad retryOn policy', spec: '  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n    retries: {attempts: 2, retryOn: "5xx,sometimes"}', path: 'spec.http[0].retries.retryOn' },
  { name: 'two oneof fields in a StringMatch', spec: '  hosts: [a]\n  http:\n  - match: [{uri: {exact: /a, prefix: /b}}]\n    route: [{destination: {host: a}}]', path: 'spec.http[0].match[0].uri' },
  { name: 'an upper-case header name', spec: '  hosts: [a]\n  http:\n  - match: [{headers: {X-User: {exact: a}}}]\n    route: [{destination: {host: a}}]', path: 'spec.http[0].match[0].headers.X-User' },
  { name: 'no hosts', spec: '  http:\n  - route: [{destination: {host: a}}]', path: 'spec.hosts' },
  { name: 'host * bound to mesh', spec: '  hosts: ["*"]\n  http:\n  - route: [{destination: {host: a}}]', path: 'spec.hosts[0]' },
  { name: 'a route with nothing to do', spec: '  hosts: [a]\n  http:\n  - match: [{uri: {prefix: /}}]', path: 'spec.http[0]' },
  { name: 'directResponse status out of range', spec: '  hosts: [a]\n  http:\n  - directResponse: {status: 99}', path: 'spec.http[0].directResponse.status' },
  { name: 'an invalid redirect code', spec: '  hosts: [a]\n  http:\n  - redirect: {uri: /x, redirectCode: 200}', path: 'spec.http[0].redirect.redirectCode' },
  { name: 'several destinations whose weights are all 0', spec: '  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}, {destination: {host: a}}]', path: 'spec.http[0].route' },
];

for (const c of rejected) {
  test(`rejected whole with the field: ${c.name}`, () => {
    const { snapshot, diagnostics } = run(svc('a') + vs('bad', c.spec));
    const errors = diagnostics.filter((d) => d.resource === 'VirtualService apps/bad' && d.severity === 'error');
    assert.ok(errors.some((d) => d.path === c.path), `an error at ${c.path}: ${JSON.stringify(errors.map((d) => `${d.path ?? ''}: ${d.message}`))}`);
    assert.ok(errors.every((d) => d.line !== undefined && d.file === 'vs.yaml'), 'file and line given');
    assert.equal(table(snapshot, 'apps/a'), 'default', 'the Service keeps its default routing');
  });
}
