// The L4 connection path: route group → (TLS: ClientHello and SNI) → L4 authorization → TLSRoute/TCPRoute
// rule → weighted backend per connection → endpoint → proxied TCP. Every refusal closes the client
// cleanly and is recorded with Envoy's response flag and a termination detail.
import type { Duplex } from 'node:stream';
import type { ClusterConfig, ListenerConfig } from '../config/snapshot.js';
import type { ConnectionContext } from '../proxy/connection-context.js';
import type { EndpointRegistry } from '../upstream/endpoint-registry.js';
import { pickBackend, pickEndpoint, type Random } from '../upstream/load-balancer.js';
import { type L4Authorizer, type L4AuthzVerdict, L4Connection, type L4ConnectionObserver, type L4ResponseFlags } from './connection-record.js';
import { type L4RouteEntry, selectL4Table, selectSniRoute } from './l4-routing.js';
import { readClientHello } from './read-client-hello.js';
import { closeAfterFlush, type Connector, connectTcp, proxyTcp, type TcpProxyEnd } from './tcp-proxy.js';

export interface L4ProxySettings {
  readonly connectTimeoutMs: number;
  /** Envoy tcp_proxy idle timeout; Istio's default is 1 hour. 0 disables it. */
  readonly idleTimeoutMs: number;
  /** How long a client may take to send its whole ClientHello (Envoy listener_filters_timeout, 15 s). */
  readonly clientHelloTimeoutMs: number;
}

export const DEFAULT_L4_SETTINGS: Omit<L4ProxySettings, 'connectTimeoutMs'> = Object.freeze({
  idleTimeoutMs: 3_600_000,
  clientHelloTimeoutMs: 15_000,
});

export interface L4ProxyDeps {
  readonly endpoints: EndpointRegistry;
  readonly random: Random;
  readonly settings: L4ProxySettings;
  readonly observer: L4ConnectionObserver | undefined;
  /** L4 AuthorizationPolicy enforcement point; undefined allows every connection. */
  readonly authorize: L4Authorizer | undefined;
  readonly connect?: Connector;
}

const EMPTY = Buffer.alloc(0);
const ignore = (): void => undefined;
const AUTHZ_ERROR: L4AuthzVerdict = Object.freeze({ kind: 'deny', details: 'authz_error' });

export class L4Proxy {
  readonly #deps: L4ProxyDeps;
  readonly #connect: Connector;
  #open = 0;

  constructor(deps: L4ProxyDeps) {
    this.#deps = deps;
    this.#connect = deps.connect ?? connectTcp;
  }

  /** L4 connections currently open (from accept to close). */
  get openCount(): number {
    return this.#open;
  }

  /** Takes over `stream`, which arrived on `listener` (bytes already read by sniffing are unshifted into it). */
  handle(stream: Duplex, ctx: ConnectionContext, listener: ListenerConfig): void {
    stream.on('error', ignore);
    const conn = new L4Connection(ctx, listener);
    this.#open++;
    const table = selectL4Table(listener.servicePort.l4, ctx.sourceNamespace);
    if (table.kind !== 'tls') {
      this.#authorize(stream, conn, () =>
        table.kind === 'tcp' ? this.#route(stream, conn, EMPTY, table.entry) : this.#upstream(stream, conn, EMPTY, table.cluster, 'default'));
      return;
    }
    stream.pause();
    readClientHello(stream, this.#deps.settings.clientHelloTimeoutMs, (outcome, head) => {
      conn.bytesReceived += head.length;
      if (outcome.kind === 'closed') return this.#refuse(stream, conn, undefined, 'downstream_closed_before_client_hello');
      // Envoy: no usable ClientHello means no filter chain matches the connection.
      if (outcome.kind === 'refused') return this.#refuse(stream, conn, 'NR', outcome.details);
      conn.sni = outcome.sni;
      conn.alpn = outcome.alpn;
      this.#authorize(stream, conn, () => {
        const entry = selectSniRoute(table.sni, outcome.sni);
        if (entry === undefined) return this.#refuse(stream, conn, 'NR', 'filter_chain_not_found');
        this.#route(stream, conn, head, entry);
      });
    });
  }

  #authorize(stream: Duplex, conn: L4Connection, next: () => void): void {
    const authorize = this.#deps.authorize;
    if (authorize === undefined) return next();
    // Fail closed: an authorizer that throws or rejects denies the connection.
    let verdict: L4AuthzVerdict | Promise<L4AuthzVerdict>;
    try {
      verdict = authorize(conn);
    } catch {
      verdict = AUTHZ_ERROR;
    }
    const apply = (v: L4AuthzVerdict): void => {
      if (stream.destroyed) return this.#refuse(stream, conn, undefined, 'downstream_closed');
      if (v.kind === 'allow') next();
      else this.#refuse(stream, conn, undefined, v.details);
    };
    if (!(verdict instanceof Promise)) return apply(verdict);
    verdict.then(apply, () => apply(AUTHZ_ERROR));
  }

  /** Weighted pick per connection; an invalid backend's share of connections is rejected (Gateway API). */
  #route(stream: Duplex, conn: L4Connection, head: Buffer, entry: L4RouteEntry): void {
    conn.routeName = entry.name;
    const target = entry.backends.total === 0 ? undefined : pickBackend(entry.backends, this.#deps.random);
    if (target === undefined) return this.#refuse(stream, conn, 'NC', 'no_backend_with_weight');
    if (target.kind === 'invalid') return this.#refuse(stream, conn, 'NC', 'cluster_not_found');
    this.#upstream(stream, conn, head, target.cluster, entry.name);
  }

  #upstream(stream: Duplex, conn: L4Connection, head: Buffer, cluster: ClusterConfig, routeName: string): void {
    conn.routeName = routeName;
    conn.cluster = cluster;
    const state = pickEndpoint(cluster, this.#deps.endpoints, this.#deps.random);
    const endpoint = state === undefined ? undefined : cluster.endpoints.find((e) => e.key === state.key);
    if (state === undefined || endpoint === undefined) return this.#refuse(stream, conn, 'UH', 'no_healthy_upstream');
    conn.endpoint = endpoint;
    conn.upstreamHost = endpoint.key;
    this.#opened(conn);
    state.active++;
    proxyTcp(stream, head, endpoint.address, endpoint.port, this.#deps.settings, conn, (end) => {
      state.active--;
      applyEnd(conn, end);
      this.#closed(conn);
    }, state.tunnel?.open ?? this.#connect);
  }

  /** Closes the client without an upstream: pending bytes flushed, FIN sent, its input discarded. */
  #refuse(stream: Duplex, conn: L4Connection, flags: L4ResponseFlags | undefined, details: string): void {
    conn.responseFlags = flags;
    conn.details = details;
    if (stream.destroyed) return this.#closed(conn);
    stream.once('close', () => this.#closed(conn));
    closeAfterFlush(stream);
  }

  #opened(conn: L4Connection): void {
    if (conn.opened) return;
    conn.opened = true;
    this.#deps.observer?.('open', conn);
  }

  #closed(conn: L4Connection): void {
    if (conn.endTime !== undefined) return;
    this.#opened(conn);
    conn.endTime = Date.now();
    this.#open--;
    this.#deps.observer?.('close', conn);
  }
}

function applyEnd(conn: L4Connection, end: TcpProxyEnd): void {
  switch (end.kind) {
    case 'completed':
      return;
    case 'connect-failed':
      // Envoy's tcp_proxy makes one connect attempt (max_connect_attempts 1): UF, then URX.
      conn.responseFlags = 'UF,URX';
      conn.details = end.details;
      return;
    case 'upstream-reset':
      conn.details = 'upstream_reset';
      return;
    case 'downstream-reset':
      conn.details = 'downstream_reset';
      return;
    case 'idle-timeout':
      conn.details = 'idle_timeout';
      return;
  }
}
