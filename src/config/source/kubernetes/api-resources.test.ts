import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APPLIED_KINDS, isAppliedKind } from '../../validate/kinds.js';
import { API_RESOURCES, candidateVersions, groupVersion, resourcePath, unmappedAppliedKinds, watchedResources } from './api-resources.js';

test('every kind validation applies has a row in the API table (so it is watched)', () => {
  assert.deepEqual(unmappedAppliedKinds(), []);
});

test('every applied kind is read at an apiVersion validation accepts', () => {
  for (const kind of Object.keys(APPLIED_KINDS)) {
    const row = API_RESOURCES.get(kind);
    assert.ok(row !== undefined, kind);
    const versions = candidateVersions(row);
    assert.ok(versions.length > 0, `${kind}: none of ${row.versions.join(', ')} is accepted by validation`);
    for (const v of versions) assert.ok(APPLIED_KINDS[kind as keyof typeof APPLIED_KINDS].includes(groupVersion(row.group, v)), `${kind} ${v}`);
  }
});

test('cluster data (Pods, Secrets) is only watched once applied; user configuration always', () => {
  const watched = new Set(watchedResources().map((r) => r.kind));
  for (const row of API_RESOURCES.values()) {
    if (row.watch === 'when-applied') assert.equal(watched.has(row.kind), isAppliedKind(row.kind), row.kind);
    else assert.ok(watched.has(row.kind), row.kind);
  }
});

const paths = [
  { name: 'core collection', kind: 'Service', version: 'v1', at: {}, want: '/api/v1/services' },
  { name: 'core object status', kind: 'Service', version: 'v1', at: { namespace: 'ns', name: 'svc', subresource: 'status' }, want: '/api/v1/namespaces/ns/services/svc/status' },
  { name: 'cluster-scoped ignores namespace', kind: 'Namespace', version: 'v1', at: { namespace: 'x', name: 'default' }, want: '/api/v1/namespaces/default' },
  { name: 'group collection', kind: 'HTTPRoute', version: 'v1', at: {}, want: '/apis/gateway.networking.k8s.io/v1/httproutes' },
  { name: 'cluster-scoped group object', kind: 'GatewayClass', version: 'v1', at: { name: 'waypoint', subresource: 'status' }, want: '/apis/gateway.networking.k8s.io/v1/gatewayclasses/waypoint/status' },
  { name: 'istio kind', kind: 'AuthorizationPolicy', version: 'v1', at: { namespace: 'a', name: 'b' }, want: '/apis/security.istio.io/v1/namespaces/a/authorizationpolicies/b' },
];
for (const c of paths) {
  test(`resourcePath: ${c.name}`, () => {
    const row = API_RESOURCES.get(c.kind);
    assert.ok(row !== undefined);
    assert.equal(resourcePath(row, c.version, c.at), c.want);
  });
}
