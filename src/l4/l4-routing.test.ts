// SNI lookup (exact before wildcard, longest wildcard first, no apex match) and route group selection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterConfig } from '../config/snapshot.js';
import { type L4RouteEntry, type L4Routing, selectL4Table, selectSniRoute, type SniTable } from './l4-routing.js';

const entry = (name: string): L4RouteEntry => ({ name, route: `ns/${name}`, kind: 'TLSRoute', backends: { targets: [], cumulative: [], total: 0 } });
const table: SniTable = {
  exact: new Map([['a.example.com', entry('exact-a')], ['x.deep.example.com', entry('exact-x')]]),
  wildcards: [
    { suffix: '.deep.example.com', entry: entry('wild-deep') },
    { suffix: '.example.com', entry: entry('wild') },
  ],
};

const sniCases: ReadonlyArray<{ sni: string | undefined; want: string | undefined }> = [
  { sni: 'a.example.com', want: 'exact-a' },
  { sni: 'x.deep.example.com', want: 'exact-x' },
  { sni: 'y.deep.example.com', want: 'wild-deep' },
  { sni: 'b.example.com', want: 'wild' },
  { sni: 'c.b.example.com', want: 'wild' },
  { sni: 'example.com', want: undefined },
  { sni: 'deep.example.com', want: 'wild' },
  { sni: 'a.example.org', want: undefined },
  { sni: 'notexample.com', want: undefined },
  { sni: undefined, want: undefined },
];

for (const c of sniCases) {
  test(`SNI ${c.sni ?? '(none)'} → ${c.want ?? 'no route'}`, () => {
    assert.equal(selectSniRoute(table, c.sni)?.name, c.want);
  });
}

const cluster = { id: 'own' } as ClusterConfig;
const routing: L4Routing = {
  producer: { kind: 'service-default', cluster },
  consumers: new Map([['client-ns', { kind: 'tcp', entry: entry('consumer') }]]),
};

const groupCases: ReadonlyArray<{ name: string; ns: string | undefined; want: string }> = [
  { name: 'no client identity: producer group', ns: undefined, want: 'service-default' },
  { name: 'client namespace with consumer routes: consumer group', ns: 'client-ns', want: 'tcp' },
  { name: 'other client namespace: producer group', ns: 'other', want: 'service-default' },
];

for (const c of groupCases) {
  test(`route group: ${c.name}`, () => {
    assert.equal(selectL4Table(routing, c.ns).kind, c.want);
  });
}
