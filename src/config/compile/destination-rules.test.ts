// DestinationRule compile: host resolution, port-level override, what is reported and ignored, bad input rejected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../diagnostics.js';
import { parseConfigText } from '../source/yaml-documents.js';
import { validateResources } from '../validate/validate.js';
import { compileLb, destinationRulePolicies, hostMatches, resolveHost } from './destination-rules.js';

const svc = (name: string, ns = 'apps'): string => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {ports: [{port: 80}, {port: 90}]}\n---\n`;
const dr = (name: string, spec: string, ns = 'apps'): string => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}\n---\n`;

function run(text: string): { diagnostics: Diagnostic[]; lb: (svc: string, port: number) => string | undefined } {
  const parsed = parseConfigText(text, 'dr.yaml', 0);
  assert.deepEqual(parsed.diagnostics, []);
  const v = validateResources(parsed.resources);
  const diagnostics = [...v.diagnostics];
  const policies = destinationRulePolicies(v.resources, 'cluster.local', diagnostics);
  return { diagnostics, lb: (s, p) => { const x = policies(s, p)?.lb; return x === undefined ? undefined : compileLb(x, []).kind; } };
}

const brief = (d: Diagnostic): string => `${d.severity} ${d.code} ${d.resource ?? ''} ${d.path ?? ''}`;

const cases = [
  {
    name: 'short host resolves in the rule namespace; port-level loadBalancer overrides the top level',
    text: svc('a') + dr('r', '  host: a\n  trafficPolicy:\n    loadBalancer: {simple: RANDOM}\n    portLevelSettings:\n    - port: {number: 90}\n      loadBalancer: {simple: ROUND_ROBIN}'),
    lb: [['apps/a', 80, 'random'], ['apps/a', 90, 'round-robin']] as const, diags: [],
  },
  {
    name: 'subsets and PASSTHROUGH are reported, SIMPLE tls without caCertificates noted; the rest applies',
    text: svc('a') + dr('r', '  host: a.apps.svc.cluster.local\n  subsets: [{name: v1, labels: {version: v1}}]\n  trafficPolicy:\n    connectionPool: {tcp: {maxConnections: 1}, http: {http2MaxRequests: 5}}\n    tls: {mode: SIMPLE}\n    loadBalancer: {simple: PASSTHROUGH}\n    portLevelSettings:\n    - port: {number: 90}\n      loadBalancer: {consistentHash: {httpCookie: {name: s, ttl: 10s}}}'),
    lb: [['apps/a', 80, 'least-request'], ['apps/a', 90, 'hash']] as const,
    diags: [
      'warning subsets-unsupported DestinationRule apps/r spec.subsets',
      'warning unsupported-field DestinationRule apps/r spec.trafficPolicy.loadBalancer.simple',
      'info tls-origination DestinationRule apps/r spec.trafficPolicy.tls.caCertificates',
      // Undeclared ports: TLS goes on their HTTP traffic only (reported once per port).
      'warning not-yet-applied DestinationRule apps/r spec.trafficPolicy.tls',
      'warning not-yet-applied DestinationRule apps/r spec.trafficPolicy.tls',
    ],
  },
  {
    name: 'ISTIO_MUTUAL tls needs nothing on a waypoint and is not reported',
    text: svc('a') + dr('r', '  host: a\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL}'),
    lb: [['apps/a', 80, undefined]] as const, diags: [],
  },
  {
    name: 'a host that matches no Service is reported',
    text: svc('a') + dr('r', '  host: b\n  trafficPolicy:\n    loadBalancer: {simple: RANDOM}'),
    lb: [['apps/a', 80, undefined]] as const, diags: ['warning destination-rule-host-not-found DestinationRule apps/r spec.host'],
  },
  {
    name: 'two hash keys, simple with consistentHash, and a non-prime Maglev table are rejected whole',
    text: svc('a') + dr('two', '  host: a\n  trafficPolicy:\n    loadBalancer: {consistentHash: {httpHeaderName: x, useSourceIp: true}}')
      + dr('both', '  host: a\n  trafficPolicy:\n    loadBalancer: {simple: RANDOM, consistentHash: {httpHeaderName: x}}')
      + dr('prime', '  host: a\n  trafficPolicy:\n    loadBalancer: {consistentHash: {httpHeaderName: x, maglev: {tableSize: 1000}}}'),
    lb: [['apps/a', 80, undefined]] as const,
    diags: [
      'error invalid-field DestinationRule apps/two spec.trafficPolicy.loadBalancer.consistentHash',
      'error invalid-field DestinationRule apps/both spec.trafficPolicy.loadBalancer.simple',
      'error invalid-field DestinationRule apps/prime spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize',
    ],
  },
  {
    name: 'unknown fields are errors naming the field',
    text: svc('a') + dr('r', '  host: a\n  trafficPolicy:\n    loadBalancer: {simpel: RANDOM}'),
    lb: [['apps/a', 80, undefined]] as const, diags: ['error unknown-field DestinationRule apps/r spec.trafficPolicy.loadBalancer.simpel'],
  },
  {
    name: 'a second rule for the same Service is reported and does not apply',
    text: svc('a') + dr('first', '  host: a\n  trafficPolicy:\n    loadBalancer: {simple: RANDOM}') + dr('second', '  host: a\n  trafficPolicy:\n    loadBalancer: {simple: ROUND_ROBIN}'),
    lb: [['apps/a', 80, 'random']] as const, diags: ['warning destination-rule-conflict DestinationRule apps/second spec.host'],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const r = run(c.text);
    for (const [s, p, want] of c.lb) assert.equal(r.lb(s, p), want, `${s}:${p}`);
    assert.deepEqual(r.diagnostics.map(brief), c.diags);
  });
}

test('host resolution and wildcard matching', () => {
  assert.equal(resolveHost('Reviews', 'bookinfo', 'cluster.local'), 'reviews.bookinfo.svc.cluster.local');
  assert.equal(resolveHost('reviews.other.svc.cluster.local', 'bookinfo', 'cluster.local'), 'reviews.other.svc.cluster.local');
  assert.ok(hostMatches('*.apps.svc.cluster.local', 'a.apps.svc.cluster.local'));
  assert.ok(!hostMatches('*.apps.svc.cluster.local', 'a.other.svc.cluster.local'));
});

test('connectionPool http2MaxRequests and outlierDetection compile per port, with Istio defaults', () => {
  const parsed = parseConfigText(svc('a') + dr('r', '  host: a\n  trafficPolicy:\n    connectionPool: {http: {http2MaxRequests: 7}}\n    outlierDetection: {consecutiveGatewayErrors: 2}\n    portLevelSettings:\n    - port: {number: 90}\n      outlierDetection: {baseEjectionTime: 1m, maxEjectionPercent: 100}'), 'dr.yaml', 0);
  const v = validateResources(parsed.resources);
  const diagnostics: Diagnostic[] = [];
  const policies = destinationRulePolicies(v.resources, 'cluster.local', diagnostics);
  assert.deepEqual(diagnostics, []);
  assert.equal(policies('apps/a', 80)?.maxRequests, 7);
  assert.deepEqual(policies('apps/a', 80)?.outlier, { consecutive5xx: 5, consecutiveGateway: 2, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 });
  assert.deepEqual(policies('apps/a', 90)?.outlier, { consecutive5xx: 5, consecutiveGateway: 0, intervalMs: 10_000, baseEjectionMs: 60_000, maxEjectionPercent: 100, minHealthPercent: 0 });
});
