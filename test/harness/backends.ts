// Test backends: real HTTP/1.1 servers on loopback that report what they received, so tests can
// assert on the request the waypoint forwarded and on which backend answered.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoReply {
  readonly backend: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawHeaders: ReadonlyArray<string>;
  readonly bodyBytes: number;
}

export interface Backend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly server: http.Server;
  /** Requests received so far. */
  readonly hits: () => number;
  close(): Promise<void>;
}

export type BackendHandler = (req: http.IncomingMessage, res: http.ServerResponse, name: string) => void;

/** Echo handler: reads the whole body, answers JSON describing the request. */
export const echo: BackendHandler = (req, res, name) => {
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    const body: EchoReply = { backend: name, method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: bytes };
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-backend': name });
    res.end(text);
  });
};

export async function startBackend(name: string, handler: BackendHandler = echo, address = '127.0.0.1', port = 0): Promise<Backend> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    handler(req, res, name);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    name,
    address,
    port: bound,
    server,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nobody listens on (bound then released). */
export async function unusedPort(address = '127.0.0.1'): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, address, () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
