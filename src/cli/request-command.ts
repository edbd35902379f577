// `waypoint request`: one HTTP/1.1 request through an HBONE tunnel as a given workload identity, printed
// like `curl -i`. The way to try routes and policies from a shell as a particular client.
import http from 'node:http';
import http2 from 'node:http2';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import { buffersOnly } from '../hbone/buffer-writes.js';
import { loadIdentity } from '../security/certs/identity.js';
import { spiffeIdOfSan } from '../security/certs/spiffe-id.js';

export interface RequestOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustBundleFile: string;
  readonly trustDomain: string;
  /** The waypoint's HBONE address. */
  readonly via: { readonly host: string; readonly port: number };
  readonly method: string;
  readonly url: string;
  readonly headers: ReadonlyArray<string>;
  readonly data: string | undefined;
  /** Sent on the CONNECT, as ztunnel sends the client's metadata. */
  readonly baggage: string | undefined;
  readonly timeoutMs: number;
}

export class RequestError extends Error {}

export async function requestCommand(o: RequestOptions, out: (s: string | Buffer) => void, err: (s: string) => void): Promise<number> {
  try {
    const res = await send(o);
    out(`HTTP/${res.httpVersion} ${res.statusCode ?? 0} ${res.statusMessage ?? ''}\n`);
    for (let i = 0; i < res.rawHeaders.length; i += 2) out(`${res.rawHeaders[i] ?? ''}: ${res.rawHeaders[i + 1] ?? ''}\n`);
    out('\n');
    for await (const chunk of res) out(chunk as Buffer);
    return 0;
  } catch (e) {
    err(`waypoint request: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

async function send(o: RequestOptions): Promise<http.IncomingMessage> {
  const identity = await loadIdentity({ certFile: o.certFile, keyFile: o.keyFile, trustBundleFile: o.trustBundleFile, trustDomain: o.trustDomain });
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new RequestError(`"${o.url}" is not a URL (e.g. http://10.96.0.10:9080/path)`);
  }
  if (url.protocol !== 'http:') throw new RequestError('only http:// URLs: the tunnel itself is the mTLS layer');
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const address = net.isIP(hostname) !== 0 ? hostname : (await lookup(hostname)).address;
  const port = url.port === '' ? 80 : Number(url.port);
  const authority = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

  const session = http2.connect(`https://${o.via.host}:${o.via.port}`, {
    createConnection: () =>
      tls.connect({
        host: o.via.host,
        port: o.via.port,
        cert: identity.certPem,
        key: identity.keyPem,
        ca: identity.trustBundlePem,
        minVersion: 'TLSv1.3',
        ALPNProtocols: ['h2'],
        // The waypoint is identified by its SPIFFE ID, not a host name: it must be in our trust domain.
        checkServerIdentity: (_h, cert) => {
          const id = spiffeIdOfSan(cert.subjectaltname);
          return id?.trustDomain === o.trustDomain ? undefined : new RequestError(`the waypoint presented ${id?.uri ?? 'no SPIFFE identity'}, not one of trust domain ${o.trustDomain}`);
        },
      }),
  });
  const timer = setTimeout(() => session.destroy(new RequestError(`no response within ${o.timeoutMs} ms`)), o.timeoutMs);
  timer.unref();
  const failed = new Promise<never>((_resolve, reject) => session.once('error', (e: Error) => reject(e)));
  failed.catch(() => undefined);
  const connectHeaders: http2.OutgoingHttpHeaders = { ':method': 'CONNECT', ':authority': authority };
  if (o.baggage !== undefined) connectHeaders['baggage'] = o.baggage;
  const stream = session.request(connectHeaders, { endStream: false });
  buffersOnly(stream);
  const connected = new Promise<void>((resolve, reject) => {
    stream.once('response', (h) => {
      const status = Number(h[':status']);
      if (status === 200) return resolve();
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (body += c));
      stream.once('end', () => reject(new RequestError(`the waypoint refused the tunnel to ${authority}: ${status} ${body.trim()}`)));
    });
    stream.once('error', reject);
  });
  await Promise.race([connected, failed]);
  const headers: Record<string, string> = { host: url.host };
  for (const h of o.headers) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new RequestError(`header "${h}" is not NAME: VALUE`);
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  headers['connection'] = 'close';
  const res = await Promise.race([failed, new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({ method: o.method, path: `${url.pathname}${url.search}`, headers, createConnection: () => stream as unknown as net.Socket }, resolve);
    req.once('error', reject);
    req.end(o.data);
  })]);
  res.once('end', () => {
    clearTimeout(timer);
    session.close();
  });
  return res;
}
