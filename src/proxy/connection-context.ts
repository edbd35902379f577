// What the waypoint knows about a downstream connection, fixed when it is accepted.
// VIP listeners fill in addresses only; HBONE tunnels add the peer's workload identity.
import type { Duplex } from 'node:stream';
import type { BaggageMetadata } from '../observability/baggage.js';

export interface ConnectionContext {
  /** `ip:port` of the VIP listener (or the HBONE CONNECT authority) the connection arrived on. */
  readonly listenerKey: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Namespace of the calling workload, from its SPIFFE identity; undefined without one. Selects consumer routes. */
  readonly sourceNamespace: string | undefined;
  /** Full SPIFFE URI of the peer, when the connection came through an authenticated tunnel. */
  readonly peerPrincipal: string | undefined;
  /** HBONE only: trust domain and service account of the peer's SPIFFE identity (`spiffe://<td>/ns/<ns>/sa/<sa>`). */
  readonly peerTrustDomain?: string;
  readonly peerServiceAccount?: string;
  /** HBONE only: the CONNECT's raw `baggage` header (W3C), as ztunnel sends the calling workload's metadata. */
  readonly baggage?: string;
  /** HBONE only: `baggage` parsed (source_workload, source_app, source_version, source_cluster labels); unset when absent or malformed. */
  readonly sourceWorkload?: BaggageMetadata;
  /**
   * HBONE only: the TCP peer of the tunnel. `remoteAddress`/`remotePort` hold the original client from the
   * CONNECT's `Forwarded: for=` when the peer is trusted to set it, else this same address.
   */
  readonly tunnelPeerAddress?: string;
}

/** Connection contexts keyed by the transport the HTTP server sees as `req.socket`. */
export class ConnectionTable {
  readonly #byStream = new WeakMap<object, ConnectionContext>();
  readonly #open = new Set<Duplex>();

  add(stream: Duplex, ctx: ConnectionContext): void {
    this.#byStream.set(stream, ctx);
    this.#open.add(stream);
    stream.once('close', () => this.#open.delete(stream));
  }

  /** Another key for an accepted connection: the HTTP/2 session running on it (its streams see no socket of ours). */
  alias(key: object, ctx: ConnectionContext): void {
    this.#byStream.set(key, ctx);
  }

  get(key: object | undefined): ConnectionContext | undefined {
    return key === undefined ? undefined : this.#byStream.get(key);
  }

  get openCount(): number {
    return this.#open.size;
  }

  /** Ends every open connection: used once draining is over. */
  destroyAll(): void {
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }
}
