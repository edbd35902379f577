// Real peers and a waypoint for the L4 end-to-end tests: TLS servers with their own certificate per SNI
// name (a test CA made in-process), TCP servers that tag, echo, sink or stream, an in-process waypoint
// that records every L4 connection, and YAML builders for TLSRoute/TCPRoute.
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { Waypoint } from '../../src/app/waypoint.js';
import { FileSource } from '../../src/config/source/file-source.js';
import type { L4ConnectionRecord } from '../../src/l4/connection-record.js';
import { silentLogger } from '../../src/observability/logger.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

// ---- certificates --------------------------------------------------------------------------------

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
type KeyPair = import('node:crypto').webcrypto.CryptoKeyPair;

export interface TestCa {
  readonly certPem: string;
  /** A server certificate and key for `dnsNames`, signed by this CA. */
  issue(dnsNames: ReadonlyArray<string>): Promise<{ readonly cert: string; readonly key: string }>;
}

async function pemKey(keys: KeyPair): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`;
}

export async function createTestCa(): Promise<TestCa> {
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=waypoint l4 test CA',
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  let serial = 1;
  return {
    certPem: ca.toString('pem'),
    async issue(dnsNames) {
      const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (++serial).toString(16).padStart(2, '0'),
        subject: `CN=${dnsNames[0] ?? 'server'}`,
        issuer: ca.subject,
        notBefore,
        notAfter,
        signingAlgorithm: ALG,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions: [
          new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        ],
      });
      return { cert: cert.toString('pem'), key: await pemKey(keys) };
    },
  };
}

// ---- peers ---------------------------------------------------------------------------------------

export interface Peer {
  readonly name: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

function peer(name: string, server: net.Server, accepted: () => number, sockets: Set<net.Socket>): Promise<Peer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        name,
        port,
        accepted,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

/** A TLS server (passthrough target): sends `name\n` once the handshake is done, then echoes. */
export async function startTlsPeer(name: string, creds: { readonly cert: string; readonly key: string }): Promise<Peer> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert: creds.cert, key: creds.key }, (s) => {
    s.on('error', () => undefined);
    s.write(`${name}\n`);
    s.pipe(s);
  });
  server.on('connection', (s: net.Socket) => {
    accepted++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  return peer(name, server, () => accepted, sockets);
}

export type TcpBehaviour = (socket: net.Socket, name: string) => void;

/** Sends `name\n`, then echoes; forwards the client's FIN after echoing everything. */
export const tagAndEcho: TcpBehaviour = (s, name) => {
  s.write(`${name}\n`);
  s.pipe(s);
};

/** Reads everything until the client's FIN, then answers `<bytes> <sha256>\n` and closes. */
export const sinkAndDigest: TcpBehaviour = (s) => {
  const hash = createHash('sha256');
  let bytes = 0;
  s.on('data', (c: Buffer) => {
    bytes += c.length;
    hash.update(c);
  });
  s.on('end', () => s.end(`${bytes} ${hash.digest('hex')}\n`));
};

/** A TCP server with `behaviour` per connection; `allowHalfOpen` so half-close is the behaviour's business. */
export async function startTcpPeer(name: string, behaviour: TcpBehaviour): Promise<Peer> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    behaviour(s, name);
  });
  return peer(name, server, () => accepted, sockets);
}

// ---- the waypoint --------------------------------------------------------------------------------

export interface L4Mesh {
  readonly waypoint: Waypoint;
  /** Every L4 connection record, in the order they opened. */
  readonly records: L4ConnectionRecord[];
  /** Records that have closed, in close order. */
  readonly closed: L4ConnectionRecord[];
  write(name: string, yaml: string): Promise<void>;
  close(): Promise<void>;
}

export async function startL4Mesh(files: Readonly<Record<string, string>>, l4: { idleTimeoutMs?: number; clientHelloTimeoutMs?: number } = {}): Promise<L4Mesh> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-l4-'));
  for (const [name, yaml] of Object.entries(files)) await writeFile(path.join(dir, name), yaml);
  const records: L4ConnectionRecord[] = [];
  const closed: L4ConnectionRecord[] = [];
  const waypoint = new Waypoint({
    source: new FileSource([dir]),
    waypoint: undefined,
    clusterDomain: 'cluster.local',
    meshConfigFile: undefined,
    adminAddress: { host: '127.0.0.1', port: 0 },
    metricsAddress: undefined,
    hboneAddress: undefined,
    connectTimeoutMs: 2000,
    log: silentLogger,
    random: Math.random,
    observer: undefined,
    l4Observer: (event, record) => (event === 'open' ? records : closed).push(record),
    l4,
  });
  await waypoint.start();
  return {
    waypoint,
    records,
    closed,
    async write(name, yaml) {
      await writeFile(path.join(dir, name), yaml);
      await waypoint.reload();
    },
    async close() {
      await waypoint.stop(500);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---- config --------------------------------------------------------------------------------------

export interface L4RouteDef {
  readonly kind: 'TLSRoute' | 'TCPRoute';
  readonly name: string;
  readonly service: string;
  readonly port?: number;
  readonly hostnames?: ReadonlyArray<string>;
  /** `service:port[:weight]` */
  readonly backends: ReadonlyArray<string>;
  readonly apiVersion?: string;
  readonly created?: string;
}

export function l4RouteYaml(r: L4RouteDef): string {
  const hostnames = r.hostnames === undefined ? '' : `  hostnames:\n${r.hostnames.map((h) => `    - "${h}"`).join('\n')}\n`;
  const backends = r.backends.map((b) => {
    const [name, port, weight] = b.split(':');
    return `        - name: ${name ?? ''}\n          port: ${port ?? ''}${weight === undefined ? '' : `\n          weight: ${weight}`}`;
  }).join('\n');
  return `---
apiVersion: ${r.apiVersion ?? 'gateway.networking.k8s.io/v1alpha2'}
kind: ${r.kind}
metadata:
  name: ${r.name}
  namespace: default${r.created === undefined ? '' : `\n  creationTimestamp: "${r.created}"`}
spec:
  parentRefs:
    - group: ""
      kind: Service
      name: ${r.service}${r.port === undefined ? '' : `\n      port: ${r.port}`}
${hostnames}  rules:
    - backendRefs:
${backends}
`;
}

// ---- clients -------------------------------------------------------------------------------------

/** Reads from `s` until `n` bytes or a newline-terminated line arrived (whichever the caller wants). */
export function readLine(s: net.Socket | tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      s.off('data', onData);
      s.off('error', reject);
      s.pause();
      const rest = buf.slice(nl + 1);
      if (rest !== '') s.unshift(Buffer.from(rest, 'latin1'));
      resolve(buf.slice(0, nl));
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('end', () => resolve(buf === '' ? '<end>' : buf));
  });
}

/** How the peer ended the connection, as seen by the client: `end` (FIN) or an error code. */
export function endOf(s: net.Socket | tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    if (s.destroyed && s.readableEnded) return resolve('end');
    s.once('end', () => resolve('end'));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.once('close', () => resolve('close'));
    s.resume();
  });
}

export function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}
