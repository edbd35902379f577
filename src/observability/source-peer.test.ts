import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionContext } from '../proxy/connection-context.js';
import { parseBaggage } from './baggage.js';
import { UNKNOWN_WORKLOAD } from './istio-labels.js';
import { MAX_SOURCE_PEERS, SourcePeers, sourceMetadata } from './source-peer.js';

const conn = (over: Partial<ConnectionContext> = {}): ConnectionContext => ({ listenerKey: '127.0.0.10:80', remoteAddress: '10.0.0.1', remotePort: 1, sourceNamespace: undefined, peerPrincipal: undefined, ...over });
const pod = { ...UNKNOWN_WORKLOAD, workload: 'web', namespace: 'apps', app: 'web', cluster: 'Kubernetes' };

const cases: ReadonlyArray<{ name: string; conn: ConnectionContext; want: Partial<typeof UNKNOWN_WORKLOAD> }> = [
  { name: 'nothing known: unknown, revision latest', conn: conn({ remoteAddress: '10.9.9.9' }), want: UNKNOWN_WORKLOAD },
  { name: 'the Pod at the peer address', conn: conn(), want: { workload: 'web', namespace: 'apps', app: 'web', principal: 'unknown' } },
  {
    name: 'baggage wins over the Pod; the SAN namespace wins over baggage',
    conn: conn({ peerPrincipal: 'spiffe://cluster.local/ns/client/sa/sleep', sourceWorkload: parseBaggage('k8s.namespace.name=other,k8s.deployment.name=sleep') as NonNullable<ConnectionContext['sourceWorkload']> }),
    want: { workload: 'sleep', namespace: 'client', principal: 'spiffe://cluster.local/ns/client/sa/sleep', app: 'unknown' },
  },
];
for (const c of cases) {
  test(c.name, () => {
    const got = sourceMetadata(c.conn, new Map([['10.0.0.1', pod]]));
    for (const [k, v] of Object.entries(c.want)) assert.equal(got[k as keyof typeof got], v, k);
  });
}

test('peers are interned, resolved once per connection, and capped', () => {
  const peers = new SourcePeers();
  const a = conn({ remoteAddress: '10.0.0.1' });
  const first = peers.of(a, new Map([['10.0.0.1', pod]]));
  assert.equal(peers.of(a, new Map()), first, 'cached per connection');
  assert.equal(peers.of(conn({ remoteAddress: '10.0.0.1' }), new Map([['10.0.0.1', pod]])), first, 'interned by label text');
  assert.equal(first.policy, 'none');
  assert.equal(peers.of(conn({ peerPrincipal: 'spiffe://td/ns/a/sa/b' }), new Map()).policy, 'mutual_tls');
  for (let i = 0; peers.size < MAX_SOURCE_PEERS; i++) {
    peers.of(conn({ sourceWorkload: parseBaggage(`k8s.deployment.name=w${i}`) as NonNullable<ConnectionContext['sourceWorkload']> }), new Map());
  }
  const over = peers.of(conn({ sourceWorkload: parseBaggage('k8s.deployment.name=one-too-many') as NonNullable<ConnectionContext['sourceWorkload']> }), new Map());
  assert.equal(over.policy, 'unknown');
  assert.match(over.text, /source_workload="unknown"/);
  assert.equal(peers.overflow, 1);
  assert.equal(peers.size, MAX_SOURCE_PEERS);
});
