import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpiffeId } from '../security/certs/spiffe-id.js';
import { hboneFromFlags } from './hbone-flags.js';
import { forwardedTrust } from './hbone-runtime.js';

const base = { trustDomain: 'cluster.local', hboneUpstreamPort: 15008, trustForwardedFrom: [] };
const flagCases: ReadonlyArray<{ name: string; flags: Parameters<typeof hboneFromFlags>[0]; want: 'none' | 'hbone' | RegExp }> = [
  { name: 'no identity flags: no HBONE', flags: base, want: 'none' },
  { name: 'all three: HBONE', flags: { ...base, cert: 'c', key: 'k', trustBundle: 'b' }, want: 'hbone' },
  { name: 'cert alone is an error', flags: { ...base, cert: 'c' }, want: /go together/ },
  { name: 'no trust bundle is an error', flags: { ...base, cert: 'c', key: 'k' }, want: /go together/ },
];
for (const c of flagCases) {
  test(`hboneFromFlags: ${c.name}`, () => {
    const r = hboneFromFlags(c.flags);
    if (c.want instanceof RegExp) assert.ok(!r.ok && c.want.test(r.message));
    else assert.equal(r.ok && (r.value === undefined ? 'none' : 'hbone'), c.want);
  });
}

const trustCases: ReadonlyArray<{ name: string; patterns: string[]; peer: string; want: boolean }> = [
  { name: 'default trusts any peer', patterns: [], peer: 'spiffe://cluster.local/ns/a/sa/b', want: true },
  { name: 'exact match', patterns: ['spiffe://cluster.local/ns/istio-system/sa/ztunnel'], peer: 'spiffe://cluster.local/ns/istio-system/sa/ztunnel', want: true },
  { name: 'exact mismatch', patterns: ['spiffe://cluster.local/ns/istio-system/sa/ztunnel'], peer: 'spiffe://cluster.local/ns/default/sa/sleep', want: false },
  { name: 'prefix', patterns: ['spiffe://cluster.local/ns/istio-system/*'], peer: 'spiffe://cluster.local/ns/istio-system/sa/gw', want: true },
  { name: 'prefix mismatch', patterns: ['spiffe://cluster.local/ns/istio-system/*'], peer: 'spiffe://cluster.local/ns/istio-systemx/sa/gw', want: false },
];
for (const c of trustCases) {
  test(`forwardedTrust: ${c.name}`, () => {
    const id = parseSpiffeId(c.peer);
    assert.ok(id !== undefined);
    assert.equal(forwardedTrust(c.patterns)(id), c.want);
  });
}
