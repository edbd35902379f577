// The attributes an authorization decision reads, for one HTTP request or one TCP connection.
// Built per request/connection; derived values (parsed IPs, lower-cased host, path without query,
// joined headers) are computed on first use only and then shared by every policy that reads them, so
// a policy set that never reads them costs nothing and one that reads them a thousand times pays once.
import type { ListenerConfig } from '../../config/snapshot.js';
import type { ConnectionContext } from '../../proxy/connection-context.js';
import type { HttpExchange, RequestAuth } from '../../proxy/http-exchange.js';
import { AddrAttr, StrAttr } from './clause.js';
import { headerSlotCount } from './header-slots.js';
import { type Address, cachedAddress, parseAddress } from './ip-match.js';

/**
 * The parts of a request authorization reads: an HttpExchange, or a detached copy of them (the debug
 * decision trace re-evaluates policies after the exchange is gone, src/debug/decision-trace.ts).
 */
export type AuthzRequest = Pick<HttpExchange, 'conn' | 'listener' | 'method' | 'path' | 'requestHeaders' | 'requestAuth'> & {
  readonly req: { readonly headers: { readonly host?: string | undefined } };
};

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
  readonly #ex: AuthzRequest | undefined;
  #source: Address | undefined | typeof UNSET = UNSET;
  #remote: Address | undefined | typeof UNSET = UNSET;
  #destination: Address | undefined | typeof UNSET = UNSET;
  #path: string | undefined;
  #host: string | undefined | typeof UNSET = UNSET;
  #body: string | undefined | typeof UNSET = UNSET;
  #namespace: string | undefined | typeof UNSET = UNSET;
  #hostLower: string | undefined | typeof UNSET = UNSET;
  #head: string | undefined | typeof UNSET = UNSET;
  #pathHead: string | undefined | typeof UNSET = UNSET;
  #headers: Array<string | undefined | typeof UNSET> | undefined;
  /** The JWT principal `iss`/`sub` were split from (requestAuth is read live: JWT authn may run after CUSTOM). */
  #splitFrom: string | undefined;
  #issuer: string | undefined;
  #subject: string | undefined;

  private constructor(http: boolean, conn: ConnectionContext, listener: ListenerConfig, ex: AuthzRequest | undefined, sni: string | undefined) {
    this.http = http;
    this.conn = conn;
    this.listener = listener;
    this.principal = conn.peerPrincipal === '' ? undefined : conn.peerPrincipal;
    this.sni = sni;
    this.#ex = ex;
  }

  static forRequest(ex: AuthzRequest): AuthzInput {
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

  /**
   * The first three segments of the principal body (`<td>/ns/<ns>` for a standard identity): the key
   * policies are indexed by (see rule-index.ts). Undefined without a SPIFFE peer.
   */
  get principalHead(): string | undefined {
    if (this.#head === UNSET) this.#head = principalHeadOf(this.principalBody);
    return this.#head;
  }

  /** A string attribute by number, for `Str` clauses. */
  str(attr: StrAttr): string | undefined {
    switch (attr) {
      case StrAttr.PrincipalBody:
        return this.principalBody;
      case StrAttr.HostLower:
        return this.hostLower;
      case StrAttr.Method:
        return this.method;
      case StrAttr.Sni:
        return this.sni;
      default:
        return this.requestAuth?.presenter;
    }
  }

  /** An address attribute by number, for `Cidr` clauses. */
  address(attr: AddrAttr): Address | undefined {
    switch (attr) {
      case AddrAttr.Source:
        return this.sourceAddress;
      case AddrAttr.Remote:
        return this.remoteAddress;
      default:
        return this.destinationAddress;
    }
  }

  get destinationPort(): number {
    return this.listener.port;
  }

  /** `source.ip` / ipBlocks: the direct peer (Envoy `direct_remote_ip`). */
  get sourceAddress(): Address | undefined {
    if (this.#source === UNSET) this.#source = cachedAddress(this.conn.remoteAddress);
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
    if (this.#destination === UNSET) this.#destination = cachedAddress(this.listener.address);
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

  /** The path up to its second `/` (`/api/v1/x` → `/api`): the key policies are indexed by. */
  get pathHead(): string | undefined {
    if (this.#pathHead === UNSET) {
      const p = this.path;
      this.#pathHead = p === undefined ? undefined : pathHeadOf(p);
    }
    return this.#pathHead;
  }

  /** `:authority` (the Host header), as received (`hosts` match `hostLower`). */
  get host(): string | undefined {
    if (this.#host === UNSET) this.#host = this.#ex?.requestHeaders.get('host') ?? this.#ex?.req.headers.host;
    return this.#host;
  }

  /** `:authority` lower-cased once (hosts match case-insensitively). */
  get hostLower(): string | undefined {
    if (this.#hostLower === UNSET) this.#hostLower = this.host?.toLowerCase();
    return this.#hostLower;
  }

  /** `header(lowerName)` cached in the slot the compiler gave the name (see header-slots.ts). */
  headerAt(slot: number, lowerName: string): string | undefined {
    if (this.#ex === undefined) return undefined;
    let cache = this.#headers;
    if (cache === undefined) {
      cache = new Array<string | undefined | typeof UNSET>(headerSlotCount()).fill(UNSET);
      this.#headers = cache;
    }
    if (slot >= cache.length) return this.header(lowerName);
    const v = cache[slot];
    if (v !== UNSET) return v;
    const h = this.header(lowerName);
    cache[slot] = h;
    return h;
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

  /** The JWT principal `iss/sub` (`request.auth.principal`), when a token was validated. */
  get requestPrincipal(): string | undefined {
    return this.#ex?.requestAuth?.principal;
  }

  /** `iss` of the JWT principal split at its last `/` (issuers are often URLs). */
  get requestIssuer(): string | undefined {
    this.#split();
    return this.#issuer;
  }

  /** `sub` of the JWT principal split at its last `/`. */
  get requestSubject(): string | undefined {
    this.#split();
    return this.#subject;
  }

  #split(): void {
    const p = this.requestPrincipal;
    if (p === this.#splitFrom) return;
    this.#splitFrom = p;
    const i = p === undefined ? -1 : p.lastIndexOf('/');
    this.#issuer = p === undefined || i < 0 ? undefined : p.slice(0, i);
    this.#subject = p === undefined || i < 0 ? undefined : p.slice(i + 1);
  }
}

/** `/a/b` → `/a`; a path without a second `/` is its own head. */
export function pathHeadOf(path: string): string {
  const at = path.indexOf('/', 1);
  return at < 0 ? path : path.slice(0, at);
}

/** `a/b/c/d` → `a/b/c`; a string with fewer than three `/` is its own head. */
export function principalHeadOf(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  let at = -1;
  for (let n = 0; n < 3; n++) {
    at = body.indexOf('/', at + 1);
    if (at < 0) return body;
  }
  return body.slice(0, at);
}
