// A tiny HBONE destination (what ztunnel is in front of an ambient pod): mTLS + HTTP/2 on its own port,
// it records who connected, answers CONNECT 200 and pipes the stream to the `:authority` address —
// or refuses peers it is told not to accept, as ztunnel does when an L4 policy denies the waypoint.
import http2, { type ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Svid } from './hbone-certs.js';

export interface HboneDestination {
  readonly port: number;
  /** SPIFFE IDs of the peers of every accepted CONNECT, in order. */
  readonly peers: string[];
  /** `:authority` of every CONNECT. */
  readonly authorities: string[];
  /** TLS connections accepted (tunnel connections, not streams). */
  readonly connections: () => number;
  /** Most CONNECT streams open at once on one connection. */
  readonly peakStreams: () => number;
  close(): Promise<void>;
}

export async function startHboneDestination(
  host: string,
  port: number,
  identity: Svid,
  trustBundlePem: string,
  allow: (peer: string) => boolean = () => true,
): Promise<HboneDestination> {
  const peers: string[] = [];
  const authorities: string[] = [];
  let connections = 0;
  let peak = 0;
  const open = new Map<unknown, number>();
  const sockets = new Set<net.Socket>();
  const server = http2.createSecureServer({
    cert: identity.certPem,
    key: identity.keyPem,
    ca: trustBundlePem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
    ALPNProtocols: ['h2'],
  });
  server.on('secureConnection', (s: tls.TLSSocket) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => undefined);
    const socket = stream.session?.socket as tls.TLSSocket | undefined;
    const san = socket?.getPeerX509Certificate()?.subjectAltName ?? '';
    const peer = san.startsWith('URI:') ? san.slice(4) : san;
    const authority = String(headers[':authority']);
    if (headers[':method'] !== 'CONNECT') return void stream.respond({ ':status': 405 }, { endStream: true });
    if (!allow(peer)) return void stream.respond({ ':status': 401 }, { endStream: true });
    peers.push(peer);
    authorities.push(authority);
    const session = stream.session;
    const n = (open.get(session) ?? 0) + 1;
    open.set(session, n);
    peak = Math.max(peak, n);
    stream.once('close', () => open.set(session, (open.get(session) ?? 1) - 1));
    const colon = authority.lastIndexOf(':');
    const upstream = net.connect({ host: authority.slice(0, colon), port: Number(authority.slice(colon + 1)) });
    upstream.once('connect', () => {
      stream.respond({ ':status': 200 });
      stream.pipe(upstream);
      upstream.pipe(stream);
    });
    upstream.on('error', () => {
      if (!stream.headersSent) stream.respond({ ':status': 503 }, { endStream: true });
      else stream.destroy();
    });
    stream.once('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    peers,
    authorities,
    connections: () => connections,
    peakStreams: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
