// A test HBONE client (a stand-in for ztunnel): mTLS + HTTP/2 to the waypoint's HBONE port, CONNECT streams,
// and an HTTP/1.1 request sent through a tunnel with node:http.
import http from 'node:http';
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import tls from 'node:tls';
import { buffersOnly } from '../../src/hbone/buffer-writes.js';
import type { PemPair } from '../../src/security/certs/dev-ca.js';

export interface ClientIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ConnectOptions {
  readonly identity: ClientIdentity | undefined;
  readonly ca: PemPair | string;
  readonly tls?: Partial<tls.ConnectionOptions>;
  readonly settings?: http2.Settings;
}

/** Opens an HBONE connection (TLS 1.3, ALPN h2, client certificate) to `host:port`. */
export function hboneConnect(host: string, port: number, options: ConnectOptions): ClientHttp2Session {
  const ca = typeof options.ca === 'string' ? options.ca : options.ca.certPem;
  const session = http2.connect(`https://${host}:${port}`, {
    createConnection: () =>
      tls.connect({
        host,
        port,
        ca,
        ...(options.identity === undefined ? {} : { cert: options.identity.certPem, key: options.identity.keyPem }),
        ALPNProtocols: ['h2'],
        minVersion: 'TLSv1.3',
        // The waypoint's identity is checked by the tests that care; here any trusted certificate will do.
        checkServerIdentity: () => undefined,
        ...options.tls,
      }),
    ...(options.settings === undefined ? {} : { settings: options.settings }),
  });
  session.on('error', () => undefined);
  return session;
}

export interface TunnelResponse {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: string;
}

/** Sends a CONNECT; resolves with the stream once answered 200, rejects with the status otherwise. */
export function openTunnel(session: ClientHttp2Session, authority: string, headers: OutgoingHttpHeaders = {}): Promise<ClientHttp2Stream> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'CONNECT', ':authority': authority, ...headers }, { endStream: false });
    buffersOnly(stream);
    stream.once('response', (h) => {
      const status = Number(h[':status']);
      if (status === 200) return resolve(stream);
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (body += c));
      stream.on('end', () => reject(Object.assign(new Error(`CONNECT answered ${status}: ${body.trim()}`), { status })));
    });
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`CONNECT stream closed (rst code ${stream.rstCode ?? 'none'})`)));
  });
}

/** One HTTP/1.1 request over an open tunnel stream. */
export function requestThrough(stream: ClientHttp2Stream, options: { method?: string; path?: string; host?: string; headers?: Record<string, string>; body?: string } = {}): Promise<TunnelResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { method: options.method ?? 'GET', path: options.path ?? '/', headers: { host: options.host ?? 'service', ...options.headers }, createConnection: () => stream as unknown as import('node:net').Socket },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as http2.IncomingHttpHeaders, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** CONNECT to `authority`, one HTTP/1.1 request, then the tunnel is closed. */
export async function tunnelRequest(session: ClientHttp2Session, authority: string, options: Parameters<typeof requestThrough>[1] & { connectHeaders?: OutgoingHttpHeaders } = {}): Promise<TunnelResponse> {
  const stream = await openTunnel(session, authority, options.connectHeaders);
  try {
    return await requestThrough(stream, options);
  } finally {
    stream.close();
  }
}

/** Resolves when the session is closed; `outcome` tells whether it ever became usable. */
export function sessionOutcome(session: ClientHttp2Session): Promise<'closed-before-settings' | 'closed-after-settings'> {
  let settings = false;
  session.once('remoteSettings', () => (settings = true));
  return new Promise((resolve) => session.once('close', () => resolve(settings ? 'closed-after-settings' : 'closed-before-settings')));
}

/**
 * Completes a TLS handshake with `options` and waits for the server's first HTTP/2 frame (its SETTINGS,
 * sent as soon as a connection is accepted): `accepted`, or `refused` when the connection fails or
 * closes without one. TLS 1.3 finishes the client side before the server checks the client certificate,
 * so a refusal shows as an alert or a close right after.
 */
export function probeHandshake(host: string, port: number, options: tls.ConnectionOptions): Promise<{ outcome: 'accepted' | 'refused'; detail: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined, ...options });
    let done = false;
    const finish = (outcome: 'accepted' | 'refused', detail: string): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ outcome, detail });
    };
    socket.once('secureConnect', () => socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
    socket.once('data', (c: Buffer) => finish(c.length >= 9 && c[3] === 0x04 ? 'accepted' : 'refused', `first frame type ${c[3] ?? -1}`));
    socket.once('error', (err: NodeJS.ErrnoException) => finish('refused', err.code ?? err.message));
    socket.once('close', () => finish('refused', 'closed'));
  });
}
