import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentFingerprint, objectKey, rawFromObject } from './raw-from-object.js';

const route = { metadata: { name: 'r', namespace: 'ns', labels: { a: 'b' }, generation: 3, resourceVersion: '17', creationTimestamp: '2024-05-01T10:00:00Z' }, spec: { parentRefs: [] }, status: { parents: [] } };

test('list items get the apiVersion and kind the list implies, and metadata as files would give it', () => {
  const raw = rawFromObject(route, 'gateway.networking.k8s.io/v1', 'HTTPRoute', true, 4);
  assert.equal(raw.object['kind'], 'HTTPRoute');
  assert.equal(raw.object['apiVersion'], 'gateway.networking.k8s.io/v1');
  assert.deepEqual(raw.metadata, { name: 'r', namespace: 'ns', labels: { a: 'b' }, annotations: {}, creationTimestamp: '2024-05-01T10:00:00Z', generation: 3, resourceVersion: '17' });
  assert.equal(raw.origin.file, 'kubernetes');
  assert.equal(raw.origin.lineOf(['spec']), undefined);
  assert.equal(raw.seq, 4);
});

const scopes = [
  { name: 'cluster-scoped kinds have no namespace', namespaced: false, meta: { name: 'default' }, want: '' },
  { name: 'namespaced kinds default to "default"', namespaced: true, meta: { name: 'x' }, want: 'default' },
  { name: 'namespaced kinds keep theirs', namespaced: true, meta: { name: 'x', namespace: 'prod' }, want: 'prod' },
];
for (const c of scopes) {
  test(c.name, () => assert.equal(rawFromObject({ metadata: c.meta }, 'v1', 'X', c.namespaced, 0).metadata.namespace, c.want));
}

const changes = [
  { name: 'a resourceVersion bump alone is no change', next: { ...route, metadata: { ...route.metadata, resourceVersion: '18' } }, ignoreStatus: true, same: true },
  { name: 'a status-only change is no change where status is output', next: { ...route, status: { parents: [{}] } }, ignoreStatus: true, same: true },
  { name: 'a status-only change counts where status is input (Pods)', next: { ...route, status: { parents: [{}] } }, ignoreStatus: false, same: false },
  { name: 'a label change counts', next: { ...route, metadata: { ...route.metadata, labels: { a: 'c' } } }, ignoreStatus: true, same: false },
  { name: 'a spec change counts', next: { ...route, spec: { parentRefs: [{ name: 'x' }] } }, ignoreStatus: true, same: false },
];
for (const c of changes) {
  test(`fingerprint: ${c.name}`, () => assert.equal(contentFingerprint(route, c.ignoreStatus) === contentFingerprint(c.next, c.ignoreStatus), c.same));
}

test('objectKey is namespace/name, or name for cluster-scoped objects', () => {
  assert.equal(objectKey(route), 'ns/r');
  assert.equal(objectKey({ metadata: { name: 'waypoint' } }), 'waypoint');
});
