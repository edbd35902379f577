import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseName } from './kubernetes-mode.js';
import { kubernetesFromFlags } from './kubernetes-options.js';

const cases = [
  { name: 'files only', flags: { config: ['a.yaml'], writeStatus: true }, ok: true, kubernetes: false },
  { name: 'kubernetes only', flags: { config: [], kubernetes: true, writeStatus: true, kubeconfig: '/k' }, ok: true, kubernetes: true },
  { name: 'neither', flags: { config: [], writeStatus: true }, ok: false, message: /--config PATH.*--kubernetes/ },
  { name: 'both', flags: { config: ['a.yaml'], kubernetes: true, writeStatus: true }, ok: false, message: /do not go together/ },
  { name: '--kubeconfig without --kubernetes', flags: { config: ['a'], kubeconfig: '/k', writeStatus: true }, ok: false, message: /--kubeconfig needs --kubernetes/ },
  { name: '--health-address without --kubernetes', flags: { config: ['a'], healthAddress: { host: '', port: 1 }, writeStatus: true }, ok: false, message: /--health-address needs/ },
  { name: '--no-write-status without --kubernetes', flags: { config: ['a'], writeStatus: false }, ok: false, message: /--no-write-status needs/ },
];
for (const c of cases) {
  test(`flags: ${c.name}`, () => {
    const r = kubernetesFromFlags(c.flags);
    assert.equal(r.ok, c.ok);
    if (r.ok) assert.equal(r.value !== undefined, c.kubernetes);
    else assert.match(r.message, c.message ?? /./);
  });
}

test('--no-write-status and the kubeconfig reach the options', () => {
  const r = kubernetesFromFlags({ config: [], kubernetes: true, writeStatus: false, kubeconfig: '/k', leaderElectionNamespace: 'ns' });
  assert.ok(r.ok);
  assert.deepEqual(r.value, { kubeconfig: '/k', writeStatus: false, leaderElectionNamespace: 'ns', healthAddress: undefined });
});

test('lease names are valid object names, one per waypoint Gateway', () => {
  assert.equal(leaseName('default', 'waypoint'), 'waypoint-status.default.waypoint');
  const long = leaseName('n'.repeat(63), 'g'.repeat(253));
  assert.ok(long.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(long));
  assert.notEqual(leaseName('a', 'b'), leaseName('a', 'c'));
});
