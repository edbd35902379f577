import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpiffeId, spiffeIdOfSan } from './spiffe-id.js';

const cases: ReadonlyArray<{ name: string; uri: string; want: [string, string | undefined, string | undefined] | undefined }> = [
  { name: 'istio workload', uri: 'spiffe://cluster.local/ns/default/sa/sleep', want: ['cluster.local', 'default', 'sleep'] },
  { name: 'trust domain only', uri: 'spiffe://example.org', want: ['example.org', undefined, undefined] },
  { name: 'non-istio path', uri: 'spiffe://example.org/workload/x', want: ['example.org', undefined, undefined] },
  { name: 'longer istio-like path', uri: 'spiffe://td/ns/a/sa/b/extra', want: ['td', undefined, undefined] },
  { name: 'uppercase trust domain', uri: 'spiffe://Cluster.local/ns/a/sa/b', want: undefined },
  { name: 'wrong scheme', uri: 'https://cluster.local/ns/a/sa/b', want: undefined },
  { name: 'empty segment', uri: 'spiffe://td/ns//sa/b', want: undefined },
  { name: 'dot segment', uri: 'spiffe://td/ns/../sa/b', want: undefined },
  { name: 'trailing slash', uri: 'spiffe://td/ns/a/sa/b/', want: undefined },
  { name: 'port in trust domain', uri: 'spiffe://td:443/ns/a/sa/b', want: undefined },
  { name: 'query', uri: 'spiffe://td/ns/a/sa/b?x=1', want: undefined },
  { name: 'empty trust domain', uri: 'spiffe:///ns/a/sa/b', want: undefined },
];

for (const c of cases) {
  test(`parseSpiffeId: ${c.name}`, () => {
    const id = parseSpiffeId(c.uri);
    assert.deepEqual(id === undefined ? undefined : [id.trustDomain, id.namespace, id.serviceAccount], c.want);
  });
}

const sans: ReadonlyArray<{ name: string; san: string | undefined; want: string | undefined }> = [
  { name: 'one URI', san: 'URI:spiffe://td/ns/a/sa/b', want: 'spiffe://td/ns/a/sa/b' },
  { name: 'URI with DNS', san: 'DNS:a.example, URI:spiffe://td/ns/a/sa/b', want: 'spiffe://td/ns/a/sa/b' },
  { name: 'two URIs', san: 'URI:spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/c/sa/d', want: undefined },
  { name: 'no URI', san: 'DNS:a.example', want: undefined },
  { name: 'no SAN', san: undefined, want: undefined },
  { name: 'non-SPIFFE URI', san: 'URI:https://a.example/', want: undefined },
];

for (const c of sans) {
  test(`spiffeIdOfSan: ${c.name}`, () => assert.equal(spiffeIdOfSan(c.san)?.uri, c.want));
}
