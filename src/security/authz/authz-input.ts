// The attributes an authorization decision reads, for one HTTP request or one TCP connection.
// Built per request/connection; derived values (parsed IPs, lower-cased host, path without query,
// joined headers) are computed on first use only, so a policy set that never reads them costs nothing.
import type { ListenerConfig } from '../../config/snapshot.js';
import type { ConnectionContext } from '../../proxy/connection-context.js';
import type { HttpExchange, RequestAuth } from '../../proxy/http-exchange.js';
import { type Address, parseAddress } from './ip-match.js';

const UNSET = Symbol('unset');
const STANDARD_SPIFFE = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/[^/]+$/;

export class AuthzInput {
  /** True for an HTTP request; false for a TCP connection (HTTP attributes are absent). */
  readonly http: boolean;
  readonly conn: ConnectionContext;
  readonly listener: ListenerConfig;
  /** Full SPIFFE URI of the peer workload (HBONE), undefined for plaintext peers. */
  readonly principal: string | undefined;
  /** TLS SNI of the downstream connection, when there is one (TLS passthrough ports). */
  readonly sni: string | undefined;
  readonly #ex: HttpExchange | undefined;
  #source: Address | undefined | typeof UNSET = UNSET;
  #remote: Address | undefined | typeof UNSET = UNSET;
  #destination: Address | undefined | typeof UNSET = UNSET;
  #path: string | undefined;
  #host: string | undefined | typeof UNSET = UNSET;
  #body: string | undefined | typeof UNSET = UNSET;
  #namespace: string | undefined | typeof UNSET = UNSET;

  private constructor(http: boolean, conn: ConnectionContext, listener: ListenerConfig, ex: HttpExchange | undefined, sni: string | undefined) {
    this.http = http;
    this.conn = conn;
    this.listener = listener;
    this.principal = conn.peerPrincipal === '' ? undefined : conn.peerPrincipal;
    this.sni = sni;
    this.#ex = ex;
  }

  static forRequest(ex: HttpExchange): AuthzInput {
    return new AuthzInput(true, ex.conn, ex.listener, ex, undefined);
  }

  static forConnection(conn: ConnectionContext, listener: ListenerConfig, sni: string | undefined): AuthzInput {
    return new AuthzInput(false, conn, listener, undefined, sni);
  }

  /** The principal without `spiffe://` (what policies write), computed once. */
  get principalBody(): string | undefined {
    if (this.#body === UNSET) this.#body = this.principal?.startsWith('spiffe://') === true ? this.principal.slice(9) : undefined;
    return this.#body;
  }

  /** The namespace of a standard SPIFFE identity (`spiffe://<td>/ns/<ns>/sa/<sa>`); undefined otherwise. */
  get principalNamespace(): string | undefined {
    if (this.#namespace === UNSET) {
      const m = this.principal === undefined ? null : STANDARD_SPIFFE.exec(this.principal);
      this.#namespace = m === null ? undefined : m[1];
    }
    return this.#namespace;
  }

  get destinationPort(): number {
    return this.listener.port;
  }

  /** `source.ip` / ipBlocks: the direct peer (Envoy `direct_remote_ip`). */
  get sourceAddress(): Address | undefined {
    if (this.#source === UNSET) this.#source = parseAddress(this.conn.remoteAddress);
    return this.#source;
  }

  /**
   * `remote.ip` / remoteIpBlocks (Envoy `remote_ip`). The waypoint's HTTP connection manager runs with
   * use_remote_address=false and no trusted hops, so Envoy takes the last (rightmost) valid address of
   * x-forwarded-for as the downstream remote address; without one (or on TCP) it is the direct peer.
   */
  get remoteAddress(): Address | undefined {
    if (this.#remote !== UNSET) return this.#remote;
    let addr: Address | undefined;
    const xff = this.#ex?.requestHeaders.getAll('x-forwarded-for');
    if (xff !== undefined && xff.length > 0) {
      const joined = xff.join(',');
      const last = joined.slice(joined.lastIndexOf(',') + 1).trim();
      addr = parseAddress(last);
    }
    this.#remote = addr ?? this.sourceAddress;
    return this.#remote;
  }

  /** `destination.ip`: the VIP the client connected to. */
  get destinationAddress(): Address | undefined {
    if (this.#destination === UNSET) this.#destination = parseAddress(this.listener.address);
    return this.#destination;
  }

  get method(): string | undefined {
    return this.#ex?.method;
  }

  /** The (normalized) path without query or fragment, as Envoy's `url_path` matcher sees it. */
  get path(): string | undefined {
    const ex = this.#ex;
    if (ex === undefined) return undefined;
    if (this.#path === undefined) {
      const p = ex.path;
      let end = p.length;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        if (c === 0x3f || c === 0x23) {
          end = i;
          break;
        }
      }
      this.#path = end === p.length ? p : p.slice(0, end);
    }
    return this.#path;
  }

  /** `:authority` (the Host header), as received; matchers lower-case it themselves. */
  get host(): string | undefined {
    if (this.#host === UNSET) this.#host = this.#ex?.requestHeaders.get('host') ?? this.#ex?.req.headers.host;
    return this.#host;
  }

  /** A request header; repeated fields are joined with "," as Envoy's header matcher sees them. */
  header(lowerName: string): string | undefined {
    const ex = this.#ex;
    if (ex === undefined) return undefined;
    switch (lowerName) {
      case ':method':
        return ex.method;
      case ':path':
        return ex.path;
      case ':authority':
        return this.host;
      case ':scheme':
        return 'http';
    }
    const all = ex.requestHeaders.getAll(lowerName);
    if (all.length === 0) return undefined;
    return all.length === 1 ? all[0] : all.join(',');
  }

  get requestAuth(): RequestAuth | undefined {
    return this.#ex?.requestAuth;
  }
}
