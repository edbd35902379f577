// The upstream HTTP version of a request to a cluster: the port's protocol (proxy/grpc-protocol.ts), overridden by
// DestinationRule connectionPool.http: `useClientProtocol` keeps the client's version (Envoy's
// USE_DOWNSTREAM_PROTOCOL; it wins over h2UpgradePolicy, as in Istio), `h2UpgradePolicy: UPGRADE` sends HTTP/1.1
// ports' requests as h2c. WebSocket upgrades always stay HTTP/1.1 (Envoy does not upgrade them to HTTP/2).
import type { ClusterConfig } from '../config/snapshot.js';
import { upstreamProtocolFor } from '../proxy/grpc-protocol.js';

export function clusterUpstreamProtocol(cluster: ClusterConfig, downstreamMajor: number, websocket: boolean): 'h1' | 'h2' {
  const override = cluster.upstream?.pool.protocol;
  if (websocket) return 'h1';
  if (override === 'client') return downstreamMajor === 2 ? 'h2' : 'h1';
  if (override === 'upgrade-h2' && (cluster.protocol === 'http' || cluster.protocol === 'unknown')) return 'h2';
  return upstreamProtocolFor(cluster.protocol, downstreamMajor);
}
