// TLS the waypoint originates to a backend (DestinationRule `tls` SIMPLE / MUTUAL): the compiled settings and the
// node:tls options of one upstream connection, verified as Envoy does: the CA chain, then `subjectAltNames`
// (any SAN of the certificate equal to one listed) or, when none are listed, the SNI (Istio's auto SAN validation).
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls, { type PeerCertificate } from 'node:tls';
import type { PoolConnector } from '../../hbone/upstream-tunnels.js';

export interface TlsOrigination {
  readonly mode: 'SIMPLE' | 'MUTUAL';
  /** PEM trust bundle (`caCertificates`); undefined: the system roots. */
  readonly ca: string | undefined;
  /** PEM client chain and key (MUTUAL). */
  readonly cert: string | undefined;
  readonly key: string | undefined;
  /** PEM certificate revocation list (`caCrl`). */
  readonly crl: string | undefined;
  /** `sni`, else the Service hostname. */
  readonly sni: string;
  readonly subjectAltNames: ReadonlyArray<string>;
  readonly insecureSkipVerify: boolean;
  /** The files the PEM came from, for /config_dump (never the contents). */
  readonly files: Readonly<Record<string, string>>;
}

/** The node:tls options origination sets (a subset of tls.ConnectionOptions, usable as undici connect options). */
export interface OriginationOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly crl?: string;
  readonly servername?: string;
  readonly ALPNProtocols: string[];
  readonly rejectUnauthorized: boolean;
  readonly checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

/** node:tls options for a connection to an endpoint; `alpn` is what the pool speaks over it. */
export function tlsConnectOptions(t: TlsOrigination, alpn: 'h2' | 'http/1.1'): OriginationOptions {
  return {
    ...(t.ca === undefined ? {} : { ca: t.ca }),
    ...(t.cert === undefined ? {} : { cert: t.cert }),
    ...(t.key === undefined ? {} : { key: t.key }),
    ...(t.crl === undefined ? {} : { crl: t.crl }),
    // An IP address is never sent as SNI (RFC 6066 §3); verification then checks IP SANs.
    ...(isIP(t.sni) === 0 ? { servername: t.sni } : {}),
    ALPNProtocols: [alpn],
    rejectUnauthorized: !t.insecureSkipVerify,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => verifyIdentity(t, cert),
  };
}

/** Undefined when the certificate names the peer we meant to reach; otherwise the error the handshake fails with. */
export function verifyIdentity(t: TlsOrigination, cert: PeerCertificate): Error | undefined {
  if (t.insecureSkipVerify) return undefined;
  if (t.subjectAltNames.length === 0) return tls.checkServerIdentity(t.sni, cert);
  const sans = certificateSans(cert);
  if (t.subjectAltNames.some((want) => sans.some((have) => sanMatches(have, want)))) return undefined;
  return Object.assign(new Error(`certificate SANs [${sans.join(', ')}] match none of subjectAltNames [${t.subjectAltNames.join(', ')}]`), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
}

/** Every SAN value of a certificate (DNS, URI, IP, email), without its type prefix. */
export function certificateSans(cert: PeerCertificate): string[] {
  const text = cert.subjectaltname;
  if (text === undefined || text === '') return [];
  return text.split(', ').map((entry) => entry.slice(entry.indexOf(':') + 1));
}

/** Exact match; a `*.` DNS SAN in the certificate covers exactly one label, as Envoy's DNS SAN matcher. */
function sanMatches(have: string, want: string): boolean {
  if (have === want) return true;
  if (!have.startsWith('*.')) return false;
  const dot = want.indexOf('.');
  return dot > 0 && want.slice(dot).toLowerCase() === have.slice(1).toLowerCase();
}

/** TLS over the connections another connector makes (an HBONE tunnel stream): TLS inside the tunnel. */
export function tlsOverConnector(base: PoolConnector, options: OriginationOptions): PoolConnector {
  return (opts, cb) => {
    base(opts, (err, socket) => {
      if (err !== null || socket === null) return cb(err ?? new Error('no connection'), null);
      let settled = false;
      const secure = tls.connect({ ...options, socket: socket as Duplex });
      secure.once('secureConnect', () => {
        settled = true;
        cb(null, secure as unknown as Socket);
      });
      secure.once('error', (e) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        cb(e, null);
      });
    });
  };
}
