// HBONE outbound: the waypoint reaches an ambient workload through a tunnel to `podIP:15008` presenting its
// own identity (TLS 1.3, ALPN h2), checks the destination's SPIFFE identity, and opens one CONNECT stream
// per upstream connection with `:authority = podIP:targetPort`. Connections are pooled per destination
// address and expected identity, many streams each, up to the peer's concurrent-stream limit.
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import tls, { type PeerCertificate } from 'node:tls';
import type { IdentitySource } from '../security/certs/identity-source.js';
import { spiffeIdOfSan } from '../security/certs/spiffe-id.js';
import { buffersOnly } from './buffer-writes.js';
import { DEFAULT_KEEPALIVE, keepAlive, type KeepaliveOptions } from './h2-keepalive.js';
import { HboneStats } from './hbone-stats.js';

/** Who the destination must be: its namespace, and its service account when known (from its Pod). */
export interface ExpectedPeer {
  readonly namespace: string;
  readonly serviceAccount: string | undefined;
}

export interface TunnelTarget {
  readonly address: string;
  /** The workload port the CONNECT asks for (the endpoint's target port). */
  readonly port: number;
  readonly peer: ExpectedPeer;
}

export interface HboneClientOptions {
  readonly identity: IdentitySource;
  readonly trustDomain: string;
  /** Port of the destination's HBONE listener (ztunnel: 15008). */
  readonly hbonePort: number;
  readonly connectTimeoutMs: number;
  /** An idle tunnel connection (no streams) is closed after this (Istio's hboneIdleTimeout: 1h). */
  readonly idleTimeoutMs: number;
  readonly keepalive: KeepaliveOptions;
}

export const DEFAULT_CLIENT_OPTIONS = { idleTimeoutMs: 3600_000, keepalive: DEFAULT_KEEPALIVE } as const;

/** A CONNECT stream the destination refused, or a destination that is not who it should be. */
export class HboneConnectError extends Error {
  readonly code: string;
  constructor(code: 'ERR_HBONE_CONNECT_REFUSED' | 'ERR_HBONE_PEER_IDENTITY' | 'ETIMEDOUT', message: string) {
    super(message);
    this.code = code;
  }
}

interface PooledSession {
  readonly session: ClientHttp2Session;
  /** Session and socket: a gracefully closing session only ends its socket. */
  readonly destroy: () => void;
  /** The TLS socket, once created (byte counts for metrics). */
  readonly socket: () => tls.TLSSocket | undefined;
  active: number;
  idle: NodeJS.Timeout | undefined;
}

export class HboneClient {
  readonly #options: HboneClientOptions;
  readonly #pools = new Map<string, PooledSession[]>();
  #closed = false;
  /** Outbound tunnel counters (waypoint_hbone_* metrics, direction="outbound"). */
  readonly stats = new HboneStats();

  constructor(options: HboneClientOptions) {
    this.#options = options;
  }

  /**
   * Opens a tunnel stream to `target`. The stream emits `connect` once the destination answers 200 (writes
   * before that are queued), and is destroyed with an error when the connection, the identity check or the
   * CONNECT fails, or when that takes longer than the connect timeout.
   */
  open(target: TunnelTarget): ClientHttp2Stream {
    const pooled = this.#session(target);
    const host = target.address.includes(':') ? `[${target.address}]` : target.address;
    const stream = pooled.session.request({ ':method': 'CONNECT', ':authority': `${host}:${target.port}` }, { endStream: false });
    pooled.active++;
    if (pooled.idle !== undefined) clearTimeout(pooled.idle);
    pooled.idle = undefined;
    buffersOnly(stream);
    stream.on('error', () => undefined);
    const timer = setTimeout(() => stream.destroy(new HboneConnectError('ETIMEDOUT', `HBONE CONNECT to ${host}:${target.port} timed out`)), this.#options.connectTimeoutMs);
    let answered = false;
    let established = false;
    stream.once('response', (headers) => {
      clearTimeout(timer);
      answered = true;
      const status = Number(headers[':status']);
      this.stats.connectResponse(status);
      if (status !== 200) return void stream.destroy(new HboneConnectError('ERR_HBONE_CONNECT_REFUSED', `HBONE CONNECT to ${host}:${target.port} answered ${status}`));
      established = true;
      this.stats.streamOpened();
      stream.emit('connect');
    });
    stream.once('close', () => {
      clearTimeout(timer);
      if (!answered) this.stats.connectFailures++;
      else if (established) this.stats.streamClosed();
      pooled.active--;
      if (pooled.active === 0 && !pooled.session.destroyed) {
        pooled.idle = setTimeout(() => pooled.session.close(), this.#options.idleTimeoutMs);
        pooled.idle.unref();
      }
    });
    return stream;
  }

  /** An undici `connect` function: the pool's connections are tunnel streams to `target`. */
  connector(target: TunnelTarget): (opts: unknown, cb: (err: Error | null, socket: ClientHttp2Stream | null) => void) => void {
    return (_opts, cb) => {
      let settled = false;
      const stream = this.open(target);
      const settle = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        stream.off('connect', onConnect);
        if (err === null) cb(null, stream);
        else cb(err, null);
      };
      const onConnect = (): void => settle(null);
      stream.once('connect', onConnect);
      // A refused identity fails the whole connection; its streams are cancelled with it as the cause.
      stream.once('error', (err: Error) => settle(err.cause instanceof HboneConnectError ? err.cause : err));
      stream.once('close', () => settle(new HboneConnectError('ERR_HBONE_CONNECT_REFUSED', 'HBONE tunnel closed before CONNECT was answered')));
    };
  }

  #session(target: TunnelTarget): PooledSession {
    if (this.#closed) throw new Error('HBONE client closed');
    const expected = this.#expectedUri(target.peer);
    const key = `${target.address}|${expected}`;
    const list = this.#pools.get(key) ?? [];
    for (const p of list) {
      if (p.session.closed || p.session.destroyed) continue;
      const limit = p.session.remoteSettings.maxConcurrentStreams ?? 100;
      if (p.active < limit) return p;
    }
    const pooled = this.#connect(target, expected);
    list.push(pooled);
    this.#pools.set(key, list);
    pooled.session.once('close', () => {
      if (pooled.idle !== undefined) clearTimeout(pooled.idle);
      const now = this.#pools.get(key)?.filter((p) => p !== pooled) ?? [];
      if (now.length === 0) this.#pools.delete(key);
      else this.#pools.set(key, now);
    });
    return pooled;
  }

  #expectedUri(peer: ExpectedPeer): string {
    return `spiffe://${this.#options.trustDomain}/ns/${peer.namespace}/sa/${peer.serviceAccount ?? '*'}`;
  }

  #connect(target: TunnelTarget, expected: string): PooledSession {
    const o = this.#options;
    const host = target.address;
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${o.hbonePort}`;
    const identity = o.identity.current;
    let socket: tls.TLSSocket | undefined;
    const session = http2.connect(url, {
      createConnection: () =>
        (socket = tls.connect({
          host,
          port: o.hbonePort,
          secureContext: identity.clientContext,
          ALPNProtocols: ['h2'],
          minVersion: 'TLSv1.3',
          rejectUnauthorized: true,
          checkServerIdentity: (_host: string, cert: PeerCertificate) => checkPeer(cert, expected, target.peer, o.trustDomain),
        })),
      settings: { enablePush: false },
      maxSessionMemory: 10,
    });
    const stats = this.stats;
    stats.sessionsOpened++;
    let connected = false;
    session.once('connect', () => (connected = true));
    session.on('error', (err: NodeJS.ErrnoException) => {
      // A handshake that failed: the destination's identity (checkPeer) or TLS itself.
      if (!connected) stats.refuse(err.code === 'ERR_HBONE_PEER_IDENTITY' ? 'peer_identity' : err.code ?? 'tls_error');
    });
    session.once('close', () => stats.sessionClosed(socket));
    const pooled: PooledSession = { session, active: 0, idle: undefined, socket: () => socket, destroy: () => {
      session.destroy();
      socket?.destroy();
    } };
    keepAlive(session, o.keepalive, () => {
      stats.keepaliveTimeouts++;
      socket?.destroy();
    });
    return pooled;
  }

  /** TLS bytes of the open tunnel connections so far (closed ones are in `stats`). */
  openBytes(): { received: number; sent: number } {
    let received = 0;
    let sent = 0;
    for (const list of this.#pools.values()) {
      for (const p of list) {
        const socket = p.socket();
        if (socket === undefined || p.session.closed || p.session.destroyed) continue;
        received += socket.bytesRead;
        sent += socket.bytesWritten;
      }
    }
    return { received, sent };
  }

  /** Tunnel connections open now. */
  get openSessions(): number {
    let n = 0;
    for (const list of this.#pools.values()) for (const p of list) if (!p.session.closed && !p.session.destroyed) n++;
    return n;
  }

  /** Closes every tunnel connection. */
  close(): void {
    this.#closed = true;
    for (const list of this.#pools.values()) for (const p of list) p.destroy();
    this.#pools.clear();
  }
}

/** The destination must present a SPIFFE ID in the trust domain, of the endpoint's namespace and (when known) service account. */
function checkPeer(cert: PeerCertificate, expected: string, peer: ExpectedPeer, trustDomain: string): Error | undefined {
  const id = spiffeIdOfSan(cert.subjectaltname);
  const ok = id !== undefined && id.trustDomain === trustDomain && id.namespace === peer.namespace
    && (peer.serviceAccount === undefined || id.serviceAccount === peer.serviceAccount);
  if (ok) return undefined;
  return new HboneConnectError('ERR_HBONE_PEER_IDENTITY', `HBONE destination presented ${id?.uri ?? 'no SPIFFE identity'}, expected ${expected}`);
}
