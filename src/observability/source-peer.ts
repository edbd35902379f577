// The client of a connection as metric labels: identity from the HBONE peer certificate, workload metadata
// from the CONNECT `baggage` (ztunnel) or, without baggage, from the Pod that owns the peer address.
// Resolved once per connection and interned; the number of distinct peers is capped.
import type { ConnectionContext } from '../proxy/connection-context.js';
import { namespaceOfPrincipal, sourceLabelText, UNKNOWN_WORKLOAD, type WorkloadMeta } from './istio-labels.js';
import type { SourcePeer } from './istio-metrics.js';

/** Distinct source label sets kept; beyond this, new clients report as `unknown` (and are counted). */
export const MAX_SOURCE_PEERS = 10_000;

export class SourcePeers {
  readonly #byConnection = new WeakMap<ConnectionContext, SourcePeer>();
  readonly #interned = new Map<string, SourcePeer>();
  readonly #unknown: SourcePeer;
  overflow = 0;

  constructor() {
    this.#unknown = Object.freeze({ text: sourceLabelText(UNKNOWN_WORKLOAD), policy: 'unknown', meta: UNKNOWN_WORKLOAD });
  }

  get size(): number {
    return this.#interned.size;
  }

  of(conn: ConnectionContext, workloadsByIp: ReadonlyMap<string, WorkloadMeta>): SourcePeer {
    const known = this.#byConnection.get(conn);
    if (known !== undefined) return known;
    const meta = sourceMetadata(conn, workloadsByIp);
    // "mutual_tls if both peer and local identities are known": only HBONE connections carry a peer SAN.
    const policy = conn.peerPrincipal !== undefined ? 'mutual_tls' : 'none';
    const text = sourceLabelText(meta);
    const key = `${text}|${policy}`;
    let peer = this.#interned.get(key);
    if (peer === undefined) {
      if (this.#interned.size >= MAX_SOURCE_PEERS) {
        this.overflow++;
        peer = this.#unknown;
      } else {
        peer = Object.freeze({ text, policy, meta });
        this.#interned.set(key, peer);
      }
    }
    this.#byConnection.set(conn, peer);
    return peer;
  }
}

/** Baggage first (what ztunnel asserts about the client), then the Pod at the peer address; principal only from mTLS. */
export function sourceMetadata(conn: ConnectionContext, workloadsByIp: ReadonlyMap<string, WorkloadMeta>): WorkloadMeta {
  // Parsed (and size/charset checked) by the HBONE listener from the CONNECT's `baggage`.
  const baggage = conn.sourceWorkload;
  const pod = baggage === undefined ? workloadsByIp.get(conn.remoteAddress) : undefined;
  const principal = conn.peerPrincipal ?? 'unknown';
  const u = UNKNOWN_WORKLOAD;
  return Object.freeze({
    workload: baggage?.workload ?? pod?.workload ?? u.workload,
    namespace: (conn.peerPrincipal === undefined ? undefined : namespaceOfPrincipal(conn.peerPrincipal)) ?? baggage?.namespace ?? pod?.namespace ?? u.namespace,
    principal,
    app: baggage?.app ?? pod?.app ?? u.app,
    version: baggage?.version ?? pod?.version ?? u.version,
    canonicalService: baggage?.service ?? pod?.canonicalService ?? u.canonicalService,
    canonicalRevision: baggage?.revision ?? pod?.canonicalRevision ?? u.canonicalRevision,
    cluster: baggage?.cluster ?? pod?.cluster ?? u.cluster,
  });
}
