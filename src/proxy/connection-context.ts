// What the waypoint knows about a downstream connection, fixed when it is accepted.
// VIP listeners fill in addresses only; HBONE tunnels add the peer's workload identity.
import type { Duplex } from 'node:stream';

export interface ConnectionContext {
  /** `ip:port` of the VIP listener (or the HBONE CONNECT authority) the connection arrived on. */
  readonly listenerKey: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Namespace of the calling workload, from its SPIFFE identity; undefined without one. Selects consumer routes. */
  readonly sourceNamespace: string | undefined;
  /** Full SPIFFE URI of the peer, when the connection came through an authenticated tunnel. */
  readonly peerPrincipal: string | undefined;
}

/** Connection contexts keyed by the transport the HTTP server sees as `req.socket`. */
export class ConnectionTable {
  readonly #byStream = new WeakMap<Duplex, ConnectionContext>();
  readonly #open = new Set<Duplex>();

  add(stream: Duplex, ctx: ConnectionContext): void {
    this.#byStream.set(stream, ctx);
    this.#open.add(stream);
    stream.once('close', () => this.#open.delete(stream));
  }

  get(stream: Duplex): ConnectionContext | undefined {
    return this.#byStream.get(stream);
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
