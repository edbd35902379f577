// What the waypoint records about each L4 (TCP/TLS) connection, for metrics (istio_tcp_*), access logs
// and tests, and the hooks that observe and authorize it. The record is live: byte counters grow while
// the connection is open, so a periodic reporter can read deltas from open records.
import type { ClusterConfig, EndpointConfig, ListenerConfig } from '../config/snapshot.js';
import type { ConnectionContext } from '../proxy/connection-context.js';

/**
 * Envoy response flags a TCP connection can end with: `NR` no route (no TLSRoute for the SNI, or no
 * usable ClientHello), `NC` invalid backendRef (cluster not found), `UH` no healthy upstream,
 * `UF,URX` upstream connect failure after Envoy's single connect attempt.
 */
export type L4ResponseFlags = 'NR' | 'NC' | 'UH' | 'UF,URX';

export type L4ConnectionEvent = 'open' | 'close';

export interface L4ConnectionRecord {
  /** Increases by one per connection, per process. */
  readonly id: number;
  readonly connection: ConnectionContext;
  /** The VIP listener (Service and port) the connection arrived on. */
  readonly listener: ListenerConfig;
  /** Date.now() when the L4 proxy took the connection. */
  readonly startTime: number;
  /** Date.now() at close; undefined while open. */
  readonly endTime: number | undefined;
  /** SNI from the ClientHello (lower-cased), when one was read (TLSRoute ports). */
  readonly sni: string | undefined;
  /** ALPN protocols offered in the ClientHello, when one was read. */
  readonly alpn: ReadonlyArray<string>;
  /** Route entry name (`ns.name.0`), `default` for the Service's own endpoints, undefined before routing. */
  readonly routeName: string | undefined;
  /** The chosen backend cluster (destination_service), once picked. */
  readonly cluster: ClusterConfig | undefined;
  /** The chosen endpoint (destination workload), once picked. */
  readonly endpoint: EndpointConfig | undefined;
  /** `ip:port` of the upstream endpoint, once picked. */
  readonly upstreamHost: string | undefined;
  /** Bytes read from the downstream client (istio_tcp_received_bytes_total). */
  readonly bytesReceived: number;
  /** Bytes written to the downstream client (istio_tcp_sent_bytes_total). */
  readonly bytesSent: number;
  /** True once the upstream TCP connection is established. */
  readonly upstreamConnected: boolean;
  readonly responseFlags: L4ResponseFlags | undefined;
  /** Why the connection ended (Envoy connection termination details style), `-` when it ended normally. */
  readonly details: string;
}

/**
 * Called with `open` exactly once per connection, as soon as its destination is decided (or just before
 * `close` when it is refused before that), then with `close` exactly once. The record passed is the live one.
 */
export type L4ConnectionObserver = (event: L4ConnectionEvent, record: L4ConnectionRecord) => void;

export type L4AuthzVerdict = { readonly kind: 'allow' } | { readonly kind: 'deny'; readonly details: string };

/**
 * L4 authorization (AuthorizationPolicy on TCP/TLS traffic): called once per connection after the SNI is
 * known and before any route or upstream is chosen; `deny` closes the connection with `details`.
 */
export type L4Authorizer = (record: L4ConnectionRecord) => L4AuthzVerdict | Promise<L4AuthzVerdict>;

/** The mutable record the L4 proxy fills in; observers see it through the read-only interface. */
export class L4Connection implements L4ConnectionRecord {
  static #nextId = 1;
  readonly id = L4Connection.#nextId++;
  readonly connection: ConnectionContext;
  readonly listener: ListenerConfig;
  readonly startTime = Date.now();
  endTime: number | undefined;
  sni: string | undefined;
  alpn: ReadonlyArray<string> = [];
  routeName: string | undefined;
  cluster: ClusterConfig | undefined;
  endpoint: EndpointConfig | undefined;
  upstreamHost: string | undefined;
  bytesReceived = 0;
  bytesSent = 0;
  upstreamConnected = false;
  responseFlags: L4ResponseFlags | undefined;
  details = '-';
  opened = false;

  constructor(connection: ConnectionContext, listener: ListenerConfig) {
    this.connection = connection;
    this.listener = listener;
  }
}
