// End to end: TLSRoute passthrough by SNI to real TLS servers, each with its own certificate (the client
// verifies it reached the right one), ClientHellos fragmented across many TCP segments, garbage and
// oversized hellos, TLSRoute over TCPRoute on one port, and the connection records and config dump.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import type { L4ConnectionRecord } from '../../src/l4/connection-record.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { waitFor } from '../harness/mesh.js';
import { connect, createTestCa, endOf, type L4Mesh, l4RouteYaml, type Peer, readLine, startL4Mesh, startTlsPeer, type TestCa } from './l4-peers.js';

const vip = vipRange();
const SECURE = vip(1);
const OWN_HOST = vip(2);
const MIXED = vip(3);
let mesh: L4Mesh;
let ca: TestCa;
const peers: Record<string, Peer> = {};

const CERTS: Record<string, ReadonlyArray<string>> = {
  'tls-a': ['a.example.com'],
  'tls-wild': ['*.example.com'],
  'tls-x': ['x.example.com'],
  'tls-b': ['b.example.org'],
  'tls-own': ['secure2.default.svc.cluster.local'],
};

before(async () => {
  ca = await createTestCa();
  for (const [name, names] of Object.entries(CERTS)) peers[name] = await startTlsPeer(name, await ca.issue(names));
  let n = 10;
  const services = Object.keys(CERTS).map((name) => serviceYaml({ name, vip: vip(n++), port: 443, portName: 'tls', endpoints: [`127.0.0.1:${peers[name]?.port ?? 0}`] }));
  const files = {
    'mesh.yaml': [
      meshPreamble(),
      ...services,
      serviceYaml({ name: 'secure', vip: SECURE, port: 443, portName: 'tls', endpoints: [] }),
      serviceYaml({ name: 'secure2', vip: OWN_HOST, port: 8443, portName: 'https', endpoints: [] }),
      serviceYaml({ name: 'mixed', vip: MIXED, port: 9000, portName: 'data', endpoints: [] }),
      l4RouteYaml({ kind: 'TLSRoute', name: 'r-a', service: 'secure', port: 443, hostnames: ['a.example.com'], backends: ['tls-a:443'] }),
      l4RouteYaml({ kind: 'TLSRoute', name: 'r-wild', service: 'secure', port: 443, hostnames: ['*.example.com'], backends: ['tls-wild:443'] }),
      l4RouteYaml({ kind: 'TLSRoute', name: 'r-x', service: 'secure', port: 443, hostnames: ['x.example.com'], backends: ['tls-x:443'], apiVersion: 'gateway.networking.k8s.io/v1' }),
      l4RouteYaml({ kind: 'TLSRoute', name: 'r-b', service: 'secure', port: 443, hostnames: ['b.example.org'], backends: ['tls-b:443'], apiVersion: 'gateway.networking.k8s.io/v1alpha3' }),
      l4RouteYaml({ kind: 'TCPRoute', name: 'loser', service: 'secure', port: 443, backends: ['tls-a:443'] }),
      l4RouteYaml({ kind: 'TLSRoute', name: 'r-own', service: 'secure2', port: 8443, backends: ['tls-own:443'] }),
      l4RouteYaml({ kind: 'TLSRoute', name: 'r-mixed', service: 'mixed', port: 9000, hostnames: ['a.example.com'], backends: ['tls-a:443'] }),
    ].join('\n'),
  };
  mesh = await startL4Mesh(files);
});

after(async () => {
  await mesh.close();
  await Promise.all(Object.values(peers).map((p) => p.close()));
});

/** TLS through the waypoint; resolves with the backend's name line, or rejects when the handshake fails. */
function tlsHello(host: string, port: number, servername: string, options: { socket?: Duplex; alpn?: string[] } = {}): Promise<{ who: string; socket: tls.TLSSocket }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      servername,
      ca: [ca.certPem],
      ...(options.socket === undefined ? {} : { socket: options.socket }),
      ...(options.alpn === undefined ? {} : { ALPNProtocols: options.alpn }),
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      readLine(socket).then((who) => resolve({ who, socket }), reject);
    });
  });
}

/** The newest closed record whose SNI is `sni`. */
async function recordFor(sni: string | undefined, from: number): Promise<L4ConnectionRecord> {
  const find = (): L4ConnectionRecord | undefined => mesh.closed.slice(from).find((r) => r.sni === sni);
  await waitFor(() => find() !== undefined);
  return find() as L4ConnectionRecord;
}

/** The closed record of the connection whose client side is `localPort`. */
async function recordOfClient(localPort: number | undefined): Promise<L4ConnectionRecord> {
  const find = (): L4ConnectionRecord | undefined => mesh.closed.find((r) => r.connection.remotePort === localPort);
  await waitFor(() => find() !== undefined);
  return find() as L4ConnectionRecord;
}

const routed: ReadonlyArray<{ sni: string; host?: string; port?: number; want: string; route: string }> = [
  { sni: 'a.example.com', want: 'tls-a', route: 'default.r-a.0' },
  { sni: 'x.example.com', want: 'tls-x', route: 'default.r-x.0' },
  { sni: 'y.example.com', want: 'tls-wild', route: 'default.r-wild.0' },
  { sni: 'b.example.org', want: 'tls-b', route: 'default.r-b.0' },
  { sni: 'A.Example.COM', want: 'tls-a', route: 'default.r-a.0' },
  { sni: 'secure2.default.svc.cluster.local', host: OWN_HOST, port: 8443, want: 'tls-own', route: 'default.r-own.0' },
  { sni: 'a.example.com', host: MIXED, port: 9000, want: 'tls-a', route: 'default.r-mixed.0' },
];

for (const c of routed) {
  test(`SNI ${c.sni} on ${c.port ?? 443} reaches ${c.want}, whose certificate the client verifies; bytes pass untouched`, async () => {
    const from = mesh.closed.length;
    const { who, socket } = await tlsHello(c.host ?? SECURE, c.port ?? 443, c.sni, { alpn: ['h2', 'http/1.1'] });
    assert.equal(who, c.want);
    assert.equal(socket.authorized, true);
    const payload = randomBytes(256 * 1024);
    const echoed: Buffer[] = [];
    let bytes = 0;
    const done = new Promise<void>((resolve) => socket.on('data', (d: Buffer) => {
      echoed.push(d);
      bytes += d.length;
      if (bytes >= payload.length) resolve();
    }));
    socket.resume();
    socket.write(payload);
    await done;
    assert.ok(Buffer.concat(echoed).equals(payload));
    socket.end();
    await endOf(socket);
    const r = await recordFor(c.sni.toLowerCase(), from);
    assert.equal(r.routeName, c.route);
    assert.deepEqual(r.alpn, ['h2', 'http/1.1']);
    assert.equal(r.upstreamHost, `127.0.0.1:${peers[c.want]?.port}`);
    assert.ok(r.bytesReceived > payload.length && r.bytesSent > payload.length);
  });
}

const refused: ReadonlyArray<{ name: string; sni: string; host?: string; port?: number; details: string }> = [
  { name: 'an SNI no TLSRoute lists', sni: 'nomatch.example.net', details: 'filter_chain_not_found' },
  { name: 'the apex of a wildcard', sni: 'example.com', details: 'filter_chain_not_found' },
  { name: 'no SNI at all', sni: '', details: 'filter_chain_not_found' },
  { name: 'another SNI than the Service host on a route without hostnames', sni: 'secure2', host: OWN_HOST, port: 8443, details: 'filter_chain_not_found' },
];

for (const c of refused) {
  test(`TLS with ${c.name} is closed before any backend (NR)`, async () => {
    const from = mesh.closed.length;
    await assert.rejects(tlsHello(c.host ?? SECURE, c.port ?? 443, c.sni));
    const r = await recordFor(c.sni === '' ? undefined : c.sni, from);
    assert.equal(r.responseFlags, 'NR');
    assert.equal(r.details, c.details);
    assert.equal(r.upstreamHost, undefined);
  });
}

/** Wraps a socket so every write leaves in `size`-byte pieces, each its own TCP segment (the first 4 KiB slowly). */
function fragmenting(raw: net.Socket, size: number): Duplex {
  raw.setNoDelay(true);
  let written = 0;
  const d = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      void (async () => {
        for (let i = 0; i < chunk.length; i += size) {
          raw.write(chunk.subarray(i, i + size));
          written += size;
          if (written < 4096) await sleep(2);
        }
        callback();
      })();
    },
    read() {
      raw.resume();
    },
    final(callback) {
      raw.end();
      callback();
    },
  });
  raw.on('data', (c: Buffer) => {
    if (!d.push(c)) raw.pause();
  });
  raw.on('end', () => d.push(null));
  raw.on('error', (e) => d.destroy(e));
  raw.on('close', () => d.destroy());
  return d;
}

test('a ClientHello fragmented into 3-byte TCP segments is reassembled and routed', async () => {
  const from = mesh.closed.length;
  const raw = await connect(SECURE, 443);
  const { who, socket } = await tlsHello(SECURE, 443, 'x.example.com', { socket: fragmenting(raw, 3) });
  assert.equal(who, 'tls-x');
  socket.end();
  await endOf(socket);
  raw.destroy();
  assert.equal((await recordFor('x.example.com', from)).routeName, 'default.r-x.0');
});

const garbage: ReadonlyArray<{ name: string; bytes: Buffer; details: string }> = [
  { name: 'plaintext HTTP', bytes: Buffer.from('GET / HTTP/1.1\r\nhost: a.example.com\r\n\r\n'), details: 'not_tls' },
  { name: 'a ServerHello', bytes: Buffer.from([22, 3, 3, 0, 8, 2, 0, 0, 4, 3, 3, 0, 0]), details: 'client_hello_invalid' },
  { name: 'a ClientHello announcing 64 KiB', bytes: Buffer.from([22, 3, 1, 0, 4, 1, 1, 0, 0]), details: 'client_hello_too_large' },
  { name: 'a zero-length record', bytes: Buffer.from([22, 3, 1, 0, 0]), details: 'client_hello_invalid' },
  { name: 'junk after a ClientHello header', bytes: Buffer.concat([Buffer.from([22, 3, 1, 0, 200, 1, 0, 0, 196]), Buffer.alloc(196, 0x41)]), details: 'client_hello_invalid' },
];

for (const c of garbage) {
  test(`${c.name} on a TLSRoute port: closed cleanly (FIN), recorded as ${c.details}`, async () => {
    const s = await connect(SECURE, 443);
    const port = s.localPort;
    s.write(c.bytes);
    assert.equal(await endOf(s), 'end');
    s.destroy();
    const r = await recordOfClient(port);
    assert.equal(r.details, c.details);
    assert.equal(r.responseFlags, 'NR');
  });
}

test('a client that leaves in the middle of its ClientHello is recorded, nothing leaks', async () => {
  const s = await connect(SECURE, 443);
  const port = s.localPort;
  s.write(Buffer.from([22, 3, 1, 1, 0, 1, 0]));
  await sleep(50);
  s.destroy();
  const r = await recordOfClient(port);
  assert.equal(r.details, 'downstream_closed_before_client_hello');
  assert.equal(mesh.waypoint.ready, true);
});

test('TLSRoute wins over a TCPRoute on the same port; the TCPRoute is Conflicted', () => {
  const status = mesh.waypoint.store.current?.status.routes.find((r) => r.kind === 'TCPRoute' && r.name === 'loser');
  const accepted = status?.parents[0]?.conditions.find((c) => c.type === 'Accepted');
  assert.equal(accepted?.status, 'False');
  assert.equal(accepted?.reason, 'Conflicted');
  const tlsStatus = mesh.waypoint.store.current?.status.routes.filter((r) => r.kind === 'TLSRoute') ?? [];
  assert.equal(tlsStatus.length, 6);
  assert.ok(tlsStatus.every((r) => r.parents[0]?.conditions.find((c) => c.type === 'Accepted')?.status === 'True'));
});

test('/config_dump shows the SNI table of the port', async () => {
  const res = await request(mesh.waypoint.adminAddress.split(':')[0] ?? '', Number(mesh.waypoint.adminAddress.split(':')[1]), { path: '/config_dump' });
  const dump = JSON.parse(res.body) as { services: Array<{ service: string; ports: Array<{ port: number; l4?: { producer: { kind: string; sni: Record<string, { route: string }> } } }> }> };
  const port = dump.services.find((s) => s.service === 'default/secure')?.ports.find((p) => p.port === 443);
  assert.equal(port?.l4?.producer.kind, 'tls');
  assert.deepEqual(Object.fromEntries(Object.entries(port?.l4?.producer.sni ?? {}).map(([h, e]) => [h, e.route])), {
    'a.example.com': 'default/r-a',
    'x.example.com': 'default/r-x',
    'b.example.org': 'default/r-b',
    '*.example.com': 'default/r-wild',
  });
});
