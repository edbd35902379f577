// Tests for TLSRoute/TCPRoute validation and compilation: status per parentRef, which Service ports they
// attach to, TLSRoute over TCPRoute (GEP-1294), conflicts between routes of one kind, the SNI tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { L4Routing } from '../../l4/l4-routing.js';
import { parseConfigText } from '../source/yaml-documents.js';
import type { Condition } from '../status.js';
import { compile, type CompileResult } from './index.js';

type Obj = Readonly<Record<string, unknown>>;
function doc(apiVersion: string, kind: string, metadata: Obj, body: Obj = {}): string {
  const rest = Object.entries(body).map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: ${JSON.stringify(metadata)}\n${rest}`;
}
const V1A2 = 'gateway.networking.k8s.io/v1alpha2';
const ns = (name: string, labels: Obj = {}): string => doc('v1', 'Namespace', { name, labels });
const service = (namespace: string, name: string, ports: ReadonlyArray<Obj>): string => doc('v1', 'Service', { name, namespace }, { spec: { ports } });
const tls = (name: string, spec: Obj, meta: Obj = {}, apiVersion = V1A2): string => doc(apiVersion, 'TLSRoute', { name, namespace: 'apps', ...meta }, { spec });
const tcp = (name: string, spec: Obj, meta: Obj = {}, apiVersion = V1A2): string => doc(apiVersion, 'TCPRoute', { name, namespace: 'apps', ...meta }, { spec });
const parent = (name: string, extra: Obj = {}): Obj => ({ group: '', kind: 'Service', name, ...extra });
const rule = (...backends: Obj[]): Obj => ({ backendRefs: backends });
const to = (name: string, port: number, extra: Obj = {}): Obj => ({ name, port, ...extra });

/** `apps` is enrolled; db has a TLS port 443, a TCP port 5432, an undeclared port 6379 and an HTTP port 80. */
const BASE = [
  ns('apps', { 'istio.io/use-waypoint': 'waypoint' }),
  doc('gateway.networking.k8s.io/v1', 'Gateway', { name: 'waypoint', namespace: 'apps' }, { spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } }),
  service('apps', 'db', [{ name: 'tls', port: 443 }, { name: 'tcp-pg', port: 5432 }, { name: 'cache', port: 6379 }, { name: 'http', port: 80 }]),
  service('apps', 'v1', [{ name: 'tls', port: 443 }, { name: 'tcp', port: 5432 }]),
  service('apps', 'v2', [{ name: 'tls', port: 443 }, { name: 'tcp', port: 5432 }]),
  ns('client'),
];

function run(docs: ReadonlyArray<string>): CompileResult {
  const parsed = parseConfigText([...BASE, ...docs].join('---\n'), 'test.yaml', 0);
  assert.deepEqual(parsed.diagnostics, [], 'the test input parses');
  const r = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1 });
  assert.ok(r.ok, 'the config compiles');
  return r;
}
function conditionsOf(r: CompileResult, kind: string, name: string, parentIndex = 0): string[] {
  const status = r.ok ? r.snapshot.status : r.status;
  const found = status.routes.find((s) => s.kind === kind && s.name === name);
  assert.ok(found !== undefined, `no status for ${kind} ${name}`);
  return (found.parents[parentIndex]?.conditions ?? []).map((c: Condition) => `${c.type}=${c.status}/${c.reason}`);
}
function l4Of(r: CompileResult, port: number, svc = 'apps/db'): L4Routing {
  assert.ok(r.ok);
  const p = r.snapshot.services.get(svc)?.ports.find((x) => x.port === port);
  assert.ok(p !== undefined, `no port ${port} on ${svc}`);
  return p.l4;
}
/** A readable summary of a routing table: `tls a.example.com→r1 *.x→r2` or `tcp r1[v1:3,v2:1]` or `default`. */
function summary(l4: L4Routing, group: string | undefined = undefined): string {
  const t = group === undefined ? l4.producer : l4.consumers.get(group);
  if (t === undefined) return 'none';
  if (t.kind === 'service-default') return 'default';
  if (t.kind === 'tcp') return `tcp ${t.entry.route}[${t.entry.backends.targets.map((b) => (b.kind === 'cluster' ? `${b.cluster.service.split('/')[1] ?? ''}:${b.weight}` : `${b.reason}:${b.weight}`)).join(',')}]`;
  return `tls ${[...[...t.sni.exact].map(([h, e]) => `${h}→${e.route}`), ...t.sni.wildcards.map((w) => `*${w.suffix}→${w.entry.route}`)].join(' ')}`;
}
const codes = (r: CompileResult): string[] => r.diagnostics.map((d) => `${d.severity}:${d.code}`);

const OK = ['Accepted=True/Accepted', 'ResolvedWaypoints=True/ResolvedWaypoints', 'ResolvedRefs=True/ResolvedRefs'];

interface Case {
  readonly name: string;
  readonly docs: ReadonlyArray<string>;
  readonly status?: { readonly kind: string; readonly name: string; readonly conditions: ReadonlyArray<string> };
  readonly routing?: ReadonlyArray<{ readonly port: number; readonly group?: string; readonly svc?: string; readonly want: string }>;
  readonly diagnostics?: ReadonlyArray<string>;
}

const cases: Case[] = [
  {
    name: 'TLSRoute on a tls port: SNI table with exact and wildcard names, wildcards longest first',
    docs: [
      tls('r1', { parentRefs: [parent('db', { port: 443 })], hostnames: ['a.example.com', '*.example.com'], rules: [rule(to('v1', 443))] }),
      tls('r2', { parentRefs: [parent('db', { sectionName: 'tls' })], hostnames: ['*.deep.example.com'], rules: [rule(to('v2', 443))] }),
    ],
    status: { kind: 'TLSRoute', name: 'r1', conditions: OK },
    routing: [{ port: 443, want: 'tls a.example.com→apps/r1 *.deep.example.com→apps/r2 *.example.com→apps/r1' }, { port: 5432, want: 'default' }],
  },
  {
    name: 'TCPRoute on a tcp port: weighted backends',
    docs: [tcp('t1', { parentRefs: [parent('db', { port: 5432 })], rules: [rule(to('v1', 5432, { weight: 3 }), to('v2', 5432, { weight: 1 }))] })],
    status: { kind: 'TCPRoute', name: 't1', conditions: OK },
    routing: [{ port: 5432, want: 'tcp apps/t1[v1:3,v2:1]' }, { port: 443, want: 'default' }],
  },
  {
    name: 'TCPRoute without a port attaches to every tcp, tls and undeclared port, never to HTTP ports',
    docs: [tcp('t1', { parentRefs: [parent('db')], rules: [rule(to('v1', 5432))] })],
    status: { kind: 'TCPRoute', name: 't1', conditions: OK },
    routing: [{ port: 5432, want: 'tcp apps/t1[v1:1]' }, { port: 443, want: 'tcp apps/t1[v1:1]' }, { port: 6379, want: 'tcp apps/t1[v1:1]' }, { port: 80, want: 'default' }],
  },
  {
    name: 'TLSRoute and TCPRoute on one port: TLSRoute wins, the TCPRoute is Conflicted',
    docs: [
      tcp('t1', { parentRefs: [parent('db', { port: 443 })], rules: [rule(to('v1', 443))] }),
      tls('r1', { parentRefs: [parent('db', { port: 443 })], hostnames: ['a.example.com'], rules: [rule(to('v2', 443))] }),
    ],
    status: { kind: 'TCPRoute', name: 't1', conditions: ['Accepted=False/Conflicted', 'ResolvedWaypoints=True/ResolvedWaypoints', 'ResolvedRefs=True/ResolvedRefs'] },
    routing: [{ port: 443, want: 'tls a.example.com→apps/r1' }],
    diagnostics: ['warning:route-conflict'],
  },
  {
    name: 'a TCPRoute on all ports loses only the port a TLSRoute claims',
    docs: [
      tcp('t1', { parentRefs: [parent('db')], rules: [rule(to('v1', 5432))] }),
      tls('r1', { parentRefs: [parent('db', { port: 443 })], hostnames: ['a.example.com'], rules: [rule(to('v2', 443))] }),
    ],
    status: { kind: 'TCPRoute', name: 't1', conditions: OK },
    routing: [{ port: 443, want: 'tls a.example.com→apps/r1' }, { port: 5432, want: 'tcp apps/t1[v1:1]' }],
    diagnostics: ['warning:route-conflict'],
  },
  {
    name: 'HTTPRoute and TCPRoute on one undeclared port: the HTTPRoute wins, the TCPRoute is Conflicted (GEP-1294)',
    docs: [
      tcp('t1', { parentRefs: [parent('db', { port: 6379 })], rules: [rule(to('v1', 5432))] }),
      doc('gateway.networking.k8s.io/v1', 'HTTPRoute', { name: 'h1', namespace: 'apps' }, { spec: { parentRefs: [parent('db', { port: 6379 })], rules: [{ backendRefs: [{ name: 'v2', port: 443 }] }] } }),
    ],
    status: { kind: 'TCPRoute', name: 't1', conditions: ['Accepted=False/Conflicted', 'ResolvedWaypoints=True/ResolvedWaypoints', 'ResolvedRefs=True/ResolvedRefs'] },
    routing: [{ port: 6379, want: 'default' }],
    diagnostics: ['warning:route-conflict'],
  },
  {
    name: 'an HTTPRoute on an undeclared port does not take declared tcp ports from a TCPRoute on every port',
    docs: [
      tcp('t1', { parentRefs: [parent('db')], rules: [rule(to('v1', 5432))] }),
      doc('gateway.networking.k8s.io/v1', 'HTTPRoute', { name: 'h1', namespace: 'apps' }, { spec: { parentRefs: [parent('db', { port: 6379 })], rules: [{ backendRefs: [{ name: 'v2', port: 443 }] }] } }),
    ],
    status: { kind: 'TCPRoute', name: 't1', conditions: OK },
    routing: [{ port: 5432, want: 'tcp apps/t1[v1:1]' }, { port: 443, want: 'tcp apps/t1[v1:1]' }, { port: 6379, want: 'default' }],
    diagnostics: ['warning:route-conflict'],
  },
  {
    name: 'TCPRoute on a port declared HTTP is not allowed',
    docs: [tcp('t1', { parentRefs: [parent('db', { port: 80 })], rules: [rule(to('v1', 5432))] })],
    status: { kind: 'TCPRoute', name: 't1', conditions: ['Accepted=False/NotAllowedByListeners', 'ResolvedWaypoints=True/ResolvedWaypoints', 'ResolvedRefs=True/ResolvedRefs'] },
    diagnostics: ['error:parent-not-allowed'],
  },
  {
    name: 'TLSRoute attached to the waypoint Gateway is not allowed by its HBONE listener',
    docs: [tls('r1', { parentRefs: [{ name: 'waypoint' }], hostnames: ['a.example.com'], rules: [rule(to('v1', 443))] })],
    status: { kind: 'TLSRoute', name: 'r1', conditions: ['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=True/ResolvedRefs'] },
    diagnostics: ['error:parent-not-allowed'],
  },
  {
    name: 'missing parent Service',
    docs: [tcp('t1', { parentRefs: [parent('nope')], rules: [rule(to('v1', 5432))] })],
    status: { kind: 'TCPRoute', name: 't1', conditions: ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs'] },
    diagnostics: ['error:parent-not-found'],
  },
  {
    name: 'missing backend: ResolvedRefs=False, its share is an invalid target',
    docs: [tcp('t1', { parentRefs: [parent('db', { port: 5432 })], rules: [rule(to('v1', 5432), to('gone', 5432))] })],
    status: { kind: 'TCPRoute', name: 't1', conditions: ['Accepted=True/Accepted', 'ResolvedWaypoints=True/ResolvedWaypoints', 'ResolvedRefs=False/BackendNotFound'] },
    routing: [{ port: 5432, want: 'tcp apps/t1[v1:1,BackendNotFound:1]' }],
    diagnostics: ['error:backend-not-found'],
  },
  {
    name: 'v1alpha2 TLSRoute without hostnames matches the parent Service host (Istio)',
    docs: [tls('r1', { parentRefs: [parent('db', { port: 443 })], rules: [rule(to('v1', 443))] })],
    status: { kind: 'TLSRoute', name: 'r1', conditions: OK },
    routing: [{ port: 443, want: 'tls db.apps.svc.cluster.local→apps/r1' }],
    diagnostics: ['info:hostnames-defaulted'],
  },
  {
    name: 'v1alpha2 rules after the first are reported as unreachable',
    docs: [tcp('t1', { parentRefs: [parent('db', { port: 5432 })], rules: [rule(to('v1', 5432)), rule(to('v2', 5432))] })],
    routing: [{ port: 5432, want: 'tcp apps/t1[v1:1]' }],
    diagnostics: ['warning:unreachable-rule'],
  },
  {
    name: 'two TCPRoutes on a port: the older one takes the connections',
    docs: [
      tcp('young', { parentRefs: [parent('db', { port: 5432 })], rules: [rule(to('v1', 5432))] }, { creationTimestamp: '2024-05-02T00:00:00Z' }),
      tcp('old', { parentRefs: [parent('db', { port: 5432 })], rules: [rule(to('v2', 5432))] }, { creationTimestamp: '2024-05-01T00:00:00Z' }),
    ],
    routing: [{ port: 5432, want: 'tcp apps/old[v2:1]' }],
    diagnostics: ['warning:route-shadowed'],
  },
  {
    name: 'one hostname in two TLSRoutes: the older route keeps it',
    docs: [
      tls('young', { parentRefs: [parent('db', { port: 443 })], hostnames: ['a.example.com', 'b.example.com'], rules: [rule(to('v1', 443))] }, { creationTimestamp: '2024-05-02T00:00:00Z' }),
      tls('old', { parentRefs: [parent('db', { port: 443 })], hostnames: ['a.example.com'], rules: [rule(to('v2', 443))] }, { creationTimestamp: '2024-05-01T00:00:00Z' }),
    ],
    routing: [{ port: 443, want: 'tls a.example.com→apps/old b.example.com→apps/young' }],
    diagnostics: ['warning:route-shadowed'],
  },
  {
    name: 'consumer TCPRoute (another namespace) applies to its namespace only',
    docs: [tcp('t1', { parentRefs: [parent('db', { namespace: 'apps', port: 5432 })], rules: [rule(to('v1', 5432, { namespace: 'apps' }))] }, { namespace: 'client' })],
    routing: [{ port: 5432, want: 'default' }, { port: 5432, group: 'client', want: 'tcp client/t1[v1:1]' }],
  },
  {
    name: 'TLSRoute v1 and v1alpha3 are accepted',
    docs: [
      tls('r1', { parentRefs: [parent('db', { port: 443 })], hostnames: ['a.example.com'], rules: [rule(to('v1', 443))] }, {}, 'gateway.networking.k8s.io/v1'),
      tls('r3', { parentRefs: [parent('db', { port: 443 })], hostnames: ['b.example.com'], rules: [rule(to('v2', 443))] }, {}, 'gateway.networking.k8s.io/v1alpha3'),
    ],
    routing: [{ port: 443, want: 'tls a.example.com→apps/r1 b.example.com→apps/r3' }],
  },
];

for (const c of cases) {
  test(`L4 routes: ${c.name}`, () => {
    const r = run(c.docs);
    if (c.status !== undefined) assert.deepEqual(conditionsOf(r, c.status.kind, c.status.name), c.status.conditions);
    for (const w of c.routing ?? []) assert.equal(summary(l4Of(r, w.port, w.svc), w.group), w.want, `port ${w.port}${w.group === undefined ? '' : ` group ${w.group}`}`);
    const expected = c.diagnostics ?? [];
    assert.deepEqual([...new Set(codes(r).filter((d) => !d.startsWith('info:') || expected.includes(d)))].sort(), [...expected].sort());
  });
}

interface InvalidCase {
  readonly name: string;
  readonly doc: string;
  readonly path: string;
  readonly message: RegExp;
}

const invalid: InvalidCase[] = [
  { name: 'TLSRoute v1 without hostnames', doc: tls('r', { parentRefs: [parent('db')], rules: [rule(to('v1', 443))] }, {}, 'gateway.networking.k8s.io/v1'), path: 'spec.hostnames', message: /required|expected array/i },
  { name: 'TLSRoute v1 with two rules', doc: tls('r', { parentRefs: [parent('db')], hostnames: ['a.example.com'], rules: [rule(to('v1', 443)), rule(to('v2', 443))] }, {}, 'gateway.networking.k8s.io/v1'), path: 'spec.rules', message: /exactly one rule/ },
  { name: 'IP address as SNI hostname', doc: tls('r', { parentRefs: [parent('db')], hostnames: ['10.0.0.1'], rules: [rule(to('v1', 443))] }), path: 'spec.hostnames[0]', message: /cannot contain an IP/ },
  { name: 'wildcard not in the first label', doc: tls('r', { parentRefs: [parent('db')], hostnames: ['a.*.example.com'], rules: [rule(to('v1', 443))] }), path: 'spec.hostnames[0]', message: /wildcard/ },
  { name: 'upper-case hostname', doc: tls('r', { parentRefs: [parent('db')], hostnames: ['A.example.com'], rules: [rule(to('v1', 443))] }), path: 'spec.hostnames[0]', message: /lowercase/ },
  { name: 'rule without backendRefs', doc: tcp('t', { parentRefs: [parent('db')], rules: [{ backendRefs: [] }] }), path: 'spec.rules[0].backendRefs', message: /at least one backendRef/ },
  { name: 'Service backendRef without port', doc: tcp('t', { parentRefs: [parent('db')], rules: [rule({ name: 'v1' })] }), path: 'spec.rules[0].backendRefs[0].port', message: /Must have port/ },
  { name: 'TCPRoute without rules', doc: tcp('t', { parentRefs: [parent('db')], rules: [] }), path: 'spec.rules', message: /needs a rule/ },
  { name: 'unknown field in a rule', doc: tcp('t', { parentRefs: [parent('db')], rules: [{ backendRefs: [to('v1', 5432)], matches: [] }] }), path: 'spec.rules[0].matches', message: /unknown field/ },
  { name: 'duplicate rule names', doc: tcp('t', { parentRefs: [parent('db')], rules: [{ name: 'a', backendRefs: [to('v1', 5432)] }, { name: 'a', backendRefs: [to('v2', 5432)] }] }), path: 'spec.rules', message: /unique/ },
  { name: 'TCPRoute apiVersion v1beta1', doc: tcp('t', { parentRefs: [parent('db')], rules: [rule(to('v1', 5432))] }, {}, 'gateway.networking.k8s.io/v1beta1'), path: 'apiVersion', message: /not supported/ },
];

for (const c of invalid) {
  test(`L4 routes rejected: ${c.name}`, () => {
    const r = run([c.doc]);
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    assert.ok(errors.length > 0, 'an error is reported');
    const found = errors.find((d) => d.path === c.path);
    assert.ok(found !== undefined, `an error at ${c.path}; got ${errors.map((d) => `${d.path ?? ''}: ${d.message}`).join(' | ')}`);
    assert.match(found.message, c.message);
    // Rejected whole: no status, no routing.
    const status = r.ok ? r.snapshot.status : r.status;
    assert.equal(status.routes.length, 0);
  });
}
