import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../../config/diagnostics.js';
import type { Snapshot } from '../../config/snapshot.js';
import { condition, type RouteStatus, type ServiceBindingStatus } from '../../config/status.js';
import type { JsonObject } from '../kube-rest.js';
import { routeTargets } from './route-status.js';
import { BasisIndex } from './status-basis.js';

const OURS = 'waypoint.dev/gateway-controller';
const NOW = '2025-01-02T03:04:05Z';
const svcRef = (name: string) => ({ group: '', kind: 'Service', name });

function binding(service: string, waypoint: string | undefined): ServiceBindingStatus {
  return { service, waypoint, source: 'namespace', servedHere: waypoint === 'default/waypoint', conditions: [] };
}

function index(routes: RouteStatus[], objects: JsonObject[], diagnostics: Diagnostic[] = []): BasisIndex {
  const snapshot = {
    waypoint: { namespace: 'default', name: 'waypoint' },
    diagnostics,
    status: { routes, gateways: [], services: [binding('default/mine', 'default/waypoint'), binding('default/theirs', 'default/other-waypoint'), binding('default/unbound', undefined)] },
  } as unknown as Snapshot;
  const byKey = new Map(objects.map((o) => [`default/${String((o['metadata'] as JsonObject)['name'])}`, o]));
  return new BasisIndex({ snapshot, objects: new Map([['HTTPRoute', byKey]]) }, { controllerName: OURS, waypointKey: 'default/waypoint', clusterDomain: 'cluster.local', now: NOW });
}

function route(parentRefs: unknown[], generation = 1, status?: unknown): JsonObject {
  return { metadata: { name: 'r', namespace: 'default', generation }, spec: { parentRefs }, ...(status === undefined ? {} : { status }) };
}

function compiled(parents: string[], generation = 1): RouteStatus {
  return { kind: 'HTTPRoute', namespace: 'default', name: 'r', parents: parents.map((p) => ({ parentRef: svcRef(p), controllerName: 'istio.io/gateway-controller', conditions: [condition('Accepted', 'True', 'Accepted', 'Route was valid', generation)] })) };
}

const names = (status: JsonObject): string[] => (status['parents'] as JsonObject[]).map((p) => `${String(p['controllerName'])}:${String((p['parentRef'] as JsonObject)['name'])}`);

const cases = [
  {
    name: 'writes parents bound to this waypoint and unbound ones, not those of another waypoint',
    refs: ['mine', 'theirs', 'unbound'],
    existing: undefined,
    want: [`${OURS}:mine`, `${OURS}:unbound`],
  },
  {
    name: 'keeps other controllers\' entries and ours for parents another waypoint serves',
    refs: ['mine', 'theirs'],
    existing: { parents: [{ parentRef: svcRef('mine'), controllerName: 'other.io/x', conditions: [] }, { parentRef: svcRef('theirs'), controllerName: OURS, conditions: [] }] },
    want: ['other.io/x:mine', `${OURS}:theirs`, `${OURS}:mine`],
  },
  {
    name: 'drops our entry for a parentRef no longer in the spec',
    refs: ['mine'],
    existing: { parents: [{ parentRef: svcRef('gone'), controllerName: OURS, conditions: [] }] },
    want: [`${OURS}:mine`],
  },
];
for (const c of cases) {
  test(`route parents: ${c.name}`, () => {
    const obj = route(c.refs.map(svcRef), 1, c.existing);
    const [target] = routeTargets('HTTPRoute', index([compiled(c.refs)], [obj]));
    assert.ok(target !== undefined);
    assert.deepEqual(names(target.desired(obj)), c.want);
  });
}

test('a rejected generation gets Accepted=False with the errors, on each parent it may write', () => {
  const obj = route([svcRef('mine'), svcRef('theirs')], 2);
  const errors: Diagnostic[] = [{ severity: 'error', code: 'invalid-field', resource: 'HTTPRoute default/r', file: 'kubernetes', doc: 0, line: 0, path: 'spec.rules[0].matches[0].path.type', message: 'bad type' }];
  const [target] = routeTargets('HTTPRoute', index([compiled(['mine', 'theirs'], 1)], [obj], errors));
  const parents = target?.desired(obj)['parents'] as JsonObject[];
  assert.equal(parents.length, 1);
  const [accepted] = parents[0]?.['conditions'] as JsonObject[];
  assert.deepEqual([accepted?.['status'], accepted?.['reason'], accepted?.['observedGeneration']], ['False', 'UnsupportedValue', 2]);
  assert.match(String(accepted?.['message']), /previous generation keeps serving\): spec\.rules\[0\]\.matches\[0\]\.path\.type: bad type/);
});

test('a generation that did not compile for no reported reason is left alone (a newer load is pending)', () => {
  const obj = route([svcRef('mine')], 2);
  assert.deepEqual(routeTargets('HTTPRoute', index([compiled(['mine'], 1)], [obj])), []);
});

test('at most 32 parents, other controllers\' first', () => {
  const theirs = Array.from({ length: 31 }, (_, i) => ({ parentRef: svcRef(`x${i}`), controllerName: 'other.io/x', conditions: [] }));
  const obj = route([svcRef('mine'), svcRef('unbound')], 1, { parents: theirs });
  const [target] = routeTargets('HTTPRoute', index([compiled(['mine', 'unbound'])], [obj]));
  assert.equal((target?.desired(obj)['parents'] as unknown[]).length, 32);
});
