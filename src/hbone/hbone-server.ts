// HBONE inbound (port 15008): TLS 1.3 only, ALPN h2, a client certificate that chains to the trust bundle
// and names a SPIFFE ID in the trust domain; then HTTP/2 where every CONNECT stream to a served `ip:port`
// is answered 200 and handed, with the peer's identity, to the same pipeline as a VIP connection.
import http2, { type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import tls from 'node:tls';
import { parseBaggage } from '../observability/baggage.js';
import type { LogFields } from '../observability/logger.js';
import type { ConnectionContext } from '../proxy/connection-context.js';
import { type ActiveIdentity, hboneTlsOptions, type IdentitySource } from '../security/certs/identity-source.js';
import { type SpiffeId, spiffeIdOfSan } from '../security/certs/spiffe-id.js';
import { parseAuthority } from './authority.js';
import { buffersOnly } from './buffer-writes.js';
import { parseForwardedFor } from './forwarded.js';
import { DEFAULT_KEEPALIVE, keepAlive, type KeepaliveOptions } from './h2-keepalive.js';
import { HboneStats } from './hbone-stats.js';
import { exclusiveDataPlaneListen } from '../cluster/listen-mode.js';

export interface HboneServerLimits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS per connection (Istio: 100). */
  readonly maxConcurrentStreams: number;
  readonly keepalive: KeepaliveOptions;
  /** TLS handshake must finish within this. */
  readonly handshakeTimeoutMs: number;
  /** nghttp2 memory per connection (MB); beyond it the connection is torn down (ENHANCE_YOUR_CALM). */
  readonly maxSessionMemoryMb: number;
  readonly maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: HboneServerLimits = {
  maxConcurrentStreams: 100,
  keepalive: DEFAULT_KEEPALIVE,
  handshakeTimeoutMs: 10_000,
  maxSessionMemoryMb: 10,
  maxConnections: 10_000,
};

export interface HboneServerDeps {
  readonly identity: IdentitySource;
  readonly trustDomain: string;
  /** Whether `ip:port` is a destination this waypoint serves (a Service VIP port of the live snapshot). */
  readonly serves: (key: string) => boolean;
  /** The data path entry (Waypoint.accept). */
  readonly accept: (stream: ServerHttp2Stream, ctx: ConnectionContext) => void;
  /** Whether this peer may state the original client address in `Forwarded: for=`. */
  readonly trustForwarded: (peer: SpiffeId) => boolean;
  readonly log: (level: 'debug' | 'warn', message: string, fields?: LogFields) => void;
  readonly limits: HboneServerLimits;
}

interface Peer {
  readonly id: SpiffeId;
  readonly address: string;
  readonly port: number;
  /** The TLS socket: a session closed gracefully only ends it, so teardown destroys it too. */
  readonly socket: tls.TLSSocket;
}

export class HboneServer {
  readonly stats = new HboneStats();
  readonly #deps: HboneServerDeps;
  readonly #tls: tls.Server;
  readonly #h2: http2.Http2Server;
  readonly #peers = new WeakMap<Http2Session, Peer>();
  readonly #sessions = new Set<Http2Session>();
  #handoff: Peer | undefined;
  #draining = false;

  constructor(deps: HboneServerDeps) {
    this.#deps = deps;
    const limits = deps.limits;
    this.#tls = tls.createServer({
      ...hboneTlsOptions(deps.identity.current.identity),
      ALPNProtocols: ['h2'],
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: limits.handshakeTimeoutMs,
    });
    this.#tls.maxConnections = limits.maxConnections;
    this.#tls.on('secureConnection', (socket: tls.TLSSocket) => this.#onSecure(socket));
    this.#tls.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
      this.stats.refuse(err.code ?? 'tls_error');
      deps.log('debug', 'HBONE handshake refused', { reason: err.code ?? err.message, peer: socket.remoteAddress });
      socket.destroy();
    });
    // Never listens: verified TLS sockets are handed to it, so the identity check precedes any HTTP/2 frame.
    this.#h2 = http2.createServer({
      settings: { maxConcurrentStreams: limits.maxConcurrentStreams, enablePush: false, maxHeaderListSize: 16 * 1024 },
      maxSessionMemory: limits.maxSessionMemoryMb,
      maxHeaderListPairs: 64,
      maxOutstandingPings: 4,
      maxSessionRejectedStreams: 100,
      maxSessionInvalidFrames: 100,
    });
    this.#h2.on('session', (session: Http2Session) => this.#onSession(session));
    this.#h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#onStream(stream, headers));
    deps.identity.onRotate((a: ActiveIdentity) => this.#tls.setSecureContext(hboneTlsOptions(a.identity)));
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#tls.once('error', reject);
      this.#tls.listen({ host, port, exclusive: exclusiveDataPlaneListen }, () => {
        this.#tls.off('error', reject);
        this.#tls.on('error', (err) => this.#deps.log('warn', 'HBONE listener error', { error: err.message }));
        resolve();
      });
    });
  }

  get address(): string {
    const a = this.#tls.address();
    if (a === null || typeof a === 'string') return '';
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  #onSecure(socket: tls.TLSSocket): void {
    const refuse = (reason: string, detail: string): void => {
      this.stats.refuse(reason);
      this.#deps.log('warn', `HBONE connection refused: ${detail}`, { reason, peer: socket.remoteAddress });
      socket.destroy();
    };
    socket.on('error', () => undefined);
    if (socket.alpnProtocol !== 'h2') return refuse('alpn', 'the client did not negotiate ALPN h2');
    // The chain and validity period were checked by TLS (rejectUnauthorized); the identity is checked here.
    const id = spiffeIdOfSan(socket.getPeerX509Certificate()?.subjectAltName);
    if (id === undefined) return refuse('no_spiffe_id', 'the client certificate has no single SPIFFE URI SAN');
    if (id.trustDomain !== this.#deps.trustDomain) return refuse('trust_domain', `peer ${id.uri} is not in trust domain ${this.#deps.trustDomain}`);
    if (this.#draining) return refuse('draining', 'the waypoint is shutting down');
    socket.setNoDelay(true);
    this.#handoff = { id, address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, socket };
    try {
      this.#h2.emit('connection', socket); // creates the session synchronously ('session' below)
    } finally {
      this.#handoff = undefined;
    }
  }

  #onSession(session: Http2Session): void {
    const peer = this.#handoff;
    if (peer === undefined) {
      session.destroy();
      return;
    }
    this.#peers.set(session, peer);
    this.#sessions.add(session);
    this.stats.sessionsOpened++;
    session.on('error', () => undefined);
    session.once('close', () => {
      this.#sessions.delete(session);
      this.stats.sessionClosed(peer.socket);
    });
    keepAlive(session, this.#deps.limits.keepalive, () => {
      this.stats.keepaliveTimeouts++;
      peer.socket.destroy();
      this.#deps.log('debug', 'HBONE peer did not answer keepalive PING: connection closed', { peer: peer.id.uri });
    });
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const peer = this.#peers.get(stream.session as Http2Session);
    if (peer === undefined) return void stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    if (headers[':method'] !== 'CONNECT') return this.#refuse(stream, 405, 'only CONNECT is served on the HBONE port');
    if (headers[':protocol'] !== undefined) return this.#refuse(stream, 400, 'extended CONNECT is not supported');
    const authority = parseAuthority(headers[':authority']);
    if (authority === undefined) return this.#refuse(stream, 400, 'the CONNECT authority must be an IP address and port');
    if (this.#draining) return this.#refuse(stream, 503, 'the waypoint is shutting down');
    if (!this.#deps.serves(authority.key)) return this.#refuse(stream, 404, `no Service or workload served by this waypoint at ${authority.key}`);
    const ctx = this.#context(peer, authority.key, headers);
    stream.respond({ ':status': 200 }, { waitForTrailers: false });
    this.stats.connectResponse(200);
    buffersOnly(stream);
    this.stats.streamOpened();
    stream.once('close', () => this.stats.streamClosed());
    this.#deps.accept(stream, ctx);
  }

  #context(peer: Peer, key: string, headers: IncomingHttpHeaders): ConnectionContext {
    const forwarded = this.#deps.trustForwarded(peer.id) ? parseForwardedFor(header(headers.forwarded)) : undefined;
    const baggage = header(headers.baggage);
    const workload = parseBaggage(baggage);
    return {
      listenerKey: key,
      remoteAddress: forwarded?.address ?? peer.address,
      remotePort: forwarded === undefined ? peer.port : forwarded.port ?? 0,
      sourceNamespace: peer.id.namespace,
      peerPrincipal: peer.id.uri,
      peerTrustDomain: peer.id.trustDomain,
      ...(peer.id.serviceAccount === undefined ? {} : { peerServiceAccount: peer.id.serviceAccount }),
      ...(baggage === undefined ? {} : { baggage }),
      ...(workload === undefined ? {} : { sourceWorkload: workload }),
      tunnelPeerAddress: peer.address,
    };
  }

  #refuse(stream: ServerHttp2Stream, status: number, reason: string): void {
    this.stats.connectResponse(status);
    if (stream.destroyed || stream.closed) return;
    const body = `${reason}\n`;
    stream.respond({ ':status': status, 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), server: 'istio-envoy' });
    stream.end(body);
  }

  /**
   * Stops accepting connections; open connections get GOAWAY so clients open no new streams, while the
   * streams they have run on (the caller destroys what is left once its grace period is over).
   */
  drain(): void {
    this.#draining = true;
    for (const s of this.#sessions) s.close();
    if (this.#tls.listening) this.#tls.close();
  }

  /** Closes every connection now. */
  close(): void {
    this.#draining = true;
    if (this.#tls.listening) this.#tls.close();
    for (const s of this.#sessions) {
      s.destroy();
      this.#peers.get(s)?.socket.destroy();
    }
    this.#sessions.clear();
  }

  /** TLS bytes of the open tunnel connections so far (closed ones are in `stats`). */
  openBytes(): { received: number; sent: number } {
    let received = 0;
    let sent = 0;
    for (const s of this.#sessions) {
      const socket = this.#peers.get(s)?.socket;
      if (socket === undefined) continue;
      received += socket.bytesRead;
      sent += socket.bytesWritten;
    }
    return { received, sent };
  }

  get openSessions(): number {
    return this.#sessions.size;
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
