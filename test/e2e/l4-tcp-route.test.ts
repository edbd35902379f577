// End to end: TCPRoute and opaque TCP through real VIP listeners to real TCP peers: weights per
// connection, invalid backends, large transfers, half-close both ways, backpressure both ways, a backend
// dying mid-stream, connect failures, sniffed undeclared ports, and the connection records.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { type Backend, startBackend, unusedPort } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { waitFor } from '../harness/mesh.js';
import type { L4ConnectionRecord } from '../../src/l4/connection-record.js';
import { connect, endOf, type L4Mesh, l4RouteYaml, type Peer, readLine, sinkAndDigest, startL4Mesh, startTcpPeer, tagAndEcho, type TcpBehaviour } from './l4-peers.js';

const vip = vipRange();
const DB = vip(1);
const PLAIN = vip(2);
const SNIFFED = vip(3);
const SHARED = vip(4);
const PORT = 5432;
let mesh: L4Mesh;
const peers: Record<string, Peer> = {};
let httpBackend: Backend;

/** Answers after the client's FIN: proves the other direction stays open after a half-close. */
const replyAfterFin: TcpBehaviour = (s) => {
  let bytes = 0;
  s.on('data', (c: Buffer) => (bytes += c.length));
  s.on('end', () => setTimeout(() => s.end(`after-fin ${bytes}\n`), 50));
};
/** Half-closes first, then keeps reading and reports what arrived after its own FIN. */
const lateReads = new Map<number, Promise<string>>();
const finFirst: TcpBehaviour = (s) => {
  s.end('bye\n');
  let got = '';
  s.on('data', (c: Buffer) => (got += c.toString()));
  lateReads.set(s.remotePort ?? 0, new Promise((resolve) => s.on('end', () => resolve(got))));
};
/** Streams `N` bytes (N from the request line) of a fixed pattern, then closes. */
const PATTERN = randomBytes(1 << 20);
const streamer: TcpBehaviour = (s) => {
  readLine(s).then(async (line) => {
    let left = Number(line);
    while (left > 0) {
      const chunk = PATTERN.subarray(0, Math.min(left, PATTERN.length));
      left -= chunk.length;
      if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
    }
    s.end();
  }, () => s.destroy());
};
/** Sends 256 KiB, then resets the connection as a crashing process would. */
const dies: TcpBehaviour = (s) => {
  s.write(PATTERN.subarray(0, 256 * 1024), () => setTimeout(() => s.resetAndDestroy(), 20));
};
/** Writes as fast as its socket accepts until told to stop; counts what its socket took. */
const firehose = { written: 0, stop: false };
const firehoseBehaviour: TcpBehaviour = (s) => {
  const pump = (): void => {
    while (!firehose.stop) {
      firehose.written += 65536;
      if (!s.write(PATTERN.subarray(0, 65536))) return void s.once('drain', pump);
    }
    s.end();
  };
  pump();
};
/** Does not read until `resume()`; counts what it eventually reads. */
const stalled = { sockets: [] as net.Socket[], read: 0, ended: undefined as Promise<void> | undefined };
const stalledReader: TcpBehaviour = (s) => {
  s.pause();
  stalled.sockets.push(s);
  stalled.ended = new Promise((resolve) => s.on('end', () => {
    resolve();
    s.end();
  }));
  s.on('data', (c: Buffer) => (stalled.read += c.length));
};

const BEHAVIOURS: Record<string, TcpBehaviour> = {
  a: tagAndEcho, b: tagAndEcho, sink: sinkAndDigest, fin: replyAfterFin, finfirst: finFirst, stream: streamer, dies, firehose: firehoseBehaviour, stalled: stalledReader, own: tagAndEcho,
};

before(async () => {
  for (const [name, behaviour] of Object.entries(BEHAVIOURS)) peers[name] = await startTcpPeer(name, behaviour);
  httpBackend = await startBackend('http-own');
  const dead = await unusedPort();
  const svc = (name: string, n: number, endpointPort: number | undefined): string =>
    serviceYaml({ name, vip: vip(n), port: PORT, portName: 'tcp', endpoints: endpointPort === undefined ? [] : [`127.0.0.1:${endpointPort}`] });
  let n = 10;
  const backendServices = Object.keys(BEHAVIOURS).map((name) => svc(name, n++, peers[name]?.port));
  const routes = [
    ['weights', 'a:5432:3', 'b:5432:1'], ['half-invalid', 'a:5432:1', 'gone:5432:1'], ['zero', 'a:5432:0'], ['sink', 'sink:5432'], ['fin', 'fin:5432'],
    ['finfirst', 'finfirst:5432'], ['stream', 'stream:5432'], ['dies', 'dies:5432'], ['firehose', 'firehose:5432'], ['stalled', 'stalled:5432'],
    ['refused', 'refused:5432'], ['empty', 'empty:5432'],
  ];
  const files: Record<string, string> = {
    'mesh.yaml': [
      meshPreamble(),
      ...backendServices,
      svc('refused', 40, dead),
      svc('empty', 41, undefined),
      // One Service per scenario, each with its own TCPRoute: `db-<route>` on DB-like VIPs.
      ...routes.map(([route], i) => serviceYaml({ name: `db-${route ?? ''}`, vip: vip(50 + i), port: PORT, portName: 'tcp-db', endpoints: [] })),
      ...routes.map(([route, ...backends]) => l4RouteYaml({ kind: 'TCPRoute', name: route ?? '', service: `db-${route ?? ''}`, port: PORT, backends })),
      // A tcp port without any route goes to the Service's own endpoints.
      serviceYaml({ name: 'plain', vip: PLAIN, port: PORT, portName: 'tcp', endpoints: [`127.0.0.1:${peers['own']?.port ?? 0}`] }),
      // An undeclared port: HTTP requests go to HTTP routing (the Service's own HTTP endpoint), the rest to the TCPRoute.
      serviceYaml({ name: 'sniffed', vip: SNIFFED, port: 7000, portName: 'db', endpoints: [`127.0.0.1:${httpBackend.port}`] }),
      l4RouteYaml({ kind: 'TCPRoute', name: 'sniffed', service: 'sniffed', port: 7000, backends: ['b:5432'] }),
      // GEP-1294: a producer route to `a`, and a consumer route from namespace `client` to `b`.
      serviceYaml({ name: 'shared', vip: SHARED, port: PORT, portName: 'tcp', endpoints: [] }),
      l4RouteYaml({ kind: 'TCPRoute', name: 'producer', service: 'shared', port: PORT, backends: ['a:5432'] }),
      '---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: client\n',
      l4RouteYaml({ kind: 'TCPRoute', name: 'consumer', service: 'shared', port: PORT, backends: ['b:5432'] })
        .replace('namespace: default', 'namespace: client').replace('name: shared', 'name: shared\n      namespace: default').replace('- name: b', '- name: b\n          namespace: default'),
    ].join('\n'),
  };
  mesh = await startL4Mesh(files);
  routeVip = new Map(routes.map(([route], i) => [route ?? '', vip(50 + i)]));
});

after(async () => {
  await mesh.close();
  await Promise.all(Object.values(peers).map((p) => p.close()));
  await httpBackend.close();
});

let routeVip = new Map<string, string>();
const vipOf = (route: string): string => {
  const v = routeVip.get(route);
  assert.ok(v !== undefined, `no Service for route ${route}`);
  return v;
};

/** Opens a connection and returns the first line the backend sends, or `<end>` when the waypoint closes it. */
async function firstLine(address: string, port = PORT): Promise<string> {
  const s = await connect(address, port);
  try {
    return await readLine(s);
  } finally {
    s.destroy();
  }
}

/** The first record of `route` that closed after `from` records had closed. */
async function closedRecord(route: string, from: number): Promise<L4ConnectionRecord> {
  const mine = (): L4ConnectionRecord | undefined => mesh.closed.slice(from).find((r) => r.routeName === `default.${route}.0`);
  await waitFor(() => mine() !== undefined);
  return mine() as L4ConnectionRecord;
}

async function tally(address: string, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, n - i) }, () => firstLine(address)));
    for (const who of batch) counts[who] = (counts[who] ?? 0) + 1;
  }
  return counts;
}

test('TCPRoute weights 3:1 split connections within statistical tolerance', async () => {
  const counts = await tally(vipOf('weights'), 400);
  assert.deepEqual(Object.keys(counts).sort(), ['a', 'b']);
  // Binomial(400, 0.75): sd ≈ 8.7; 45 is over five standard deviations.
  assert.ok(Math.abs((counts['a'] ?? 0) - 300) < 45, `a got ${counts['a']}, b got ${counts['b']}`);
});

test('an invalid backend rejects its share of connections (NC), the rest are served', async () => {
  const counts = await tally(vipOf('half-invalid'), 200);
  assert.deepEqual(Object.keys(counts).sort(), ['<end>', 'a']);
  assert.ok(Math.abs((counts['a'] ?? 0) - 100) < 36, `served ${counts['a']}, rejected ${counts['<end>']}`);
  const mine = (): L4ConnectionRecord[] => mesh.closed.filter((r) => r.routeName === 'default.half-invalid.0');
  await waitFor(() => mine().length === 200);
  const rejected = mine().filter((r) => r.responseFlags === 'NC');
  assert.equal(rejected.length, counts['<end>']);
  assert.ok(rejected.every((r) => r.details === 'cluster_not_found' && r.upstreamHost === undefined));
});

const refusals: ReadonlyArray<{ name: string; route: string; flags: string; details: string }> = [
  { name: 'all weights zero', route: 'zero', flags: 'NC', details: 'no_backend_with_weight' },
  { name: 'backend refuses the connection', route: 'refused', flags: 'UF,URX', details: 'upstream_connection_failure' },
  { name: 'backend Service without endpoints', route: 'empty', flags: 'UH', details: 'no_healthy_upstream' },
];

for (const c of refusals) {
  test(`${c.name}: the client gets a clean close (FIN) and the record says ${c.flags}`, async () => {
    const before = mesh.closed.length;
    const s = await connect(vipOf(c.route), PORT);
    s.write('hello?');
    assert.equal(await endOf(s), 'end');
    s.destroy();
    const r = await closedRecord(c.route, before);
    assert.equal(r?.responseFlags, c.flags);
    assert.equal(r?.details, c.details);
  });
}

test('a tcp port without routes goes to the Service\'s own endpoints', async () => {
  assert.equal(await firstLine(PLAIN), 'own');
});

test('an undeclared port: HTTP goes to HTTP routing, other bytes to the TCPRoute', async () => {
  const res = await request(SNIFFED, 7000, { path: '/x' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-backend'], 'http-own');
  const s = await connect(SNIFFED, 7000);
  s.write(Buffer.from([0, 1, 2, 3, 0xff]));
  assert.equal(await readLine(s), 'b');
  s.destroy();
});

/** A connection handed to the waypoint as if it came through a tunnel from a workload in `namespace`. */
async function acceptAs(namespace: string | undefined): Promise<net.Socket> {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = await connect('127.0.0.1', (server.address() as net.AddressInfo).port);
  const inside = await accepted;
  server.close();
  mesh.waypoint.accept(inside, { listenerKey: `${SHARED}:${PORT}`, remoteAddress: '127.0.0.1', remotePort: client.localPort ?? 0, sourceNamespace: namespace, peerPrincipal: undefined });
  return client;
}

test('consumer TCPRoute (GEP-1294): clients of its namespace take it, everyone else the producer route', async () => {
  for (const [ns, want] of [['client', 'b'], [undefined, 'a'], ['other', 'a']] as const) {
    const s = await acceptAs(ns);
    assert.equal(await readLine(s), want, `client namespace ${ns ?? '(none)'}`);
    s.destroy();
  }
  assert.equal(await firstLine(SHARED), 'a');
});

async function writeAll(s: net.Socket, total: number, hash: ReturnType<typeof createHash>): Promise<void> {
  for (let sent = 0; sent < total; sent += PATTERN.length) {
    const chunk = PATTERN.subarray(0, Math.min(PATTERN.length, total - sent));
    hash.update(chunk);
    if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
  }
}

test('128 MiB upload arrives intact (sha256) and the record counts every byte', async () => {
  const total = 128 * 1024 * 1024;
  const s = await connect(vipOf('sink'), PORT);
  const mine = createHash('sha256');
  const reply = readLine(s);
  await writeAll(s, total, mine);
  s.end();
  assert.equal(await reply, `${total} ${mine.digest('hex')}`);
  await waitFor(() => mesh.closed.some((r) => r.routeName === 'default.sink.0'));
  const r = mesh.closed.find((x) => x.routeName === 'default.sink.0');
  assert.equal(r?.bytesReceived, total);
  assert.equal(r?.bytesSent, `${total} `.length + 64 + 1);
  assert.equal(r?.cluster?.id, `inbound-vip|${PORT}|tcp|sink.default.svc.cluster.local`);
  assert.equal(r?.upstreamHost, `127.0.0.1:${peers['sink']?.port}`);
  assert.ok(r?.endTime !== undefined && r.details === '-' && r.responseFlags === undefined);
});

test('128 MiB download arrives intact (sha256)', async () => {
  const total = 128 * 1024 * 1024;
  const expected = createHash('sha256');
  for (let sent = 0; sent < total; sent += PATTERN.length) expected.update(PATTERN.subarray(0, Math.min(PATTERN.length, total - sent)));
  const s = await connect(vipOf('stream'), PORT);
  const got = createHash('sha256');
  let bytes = 0;
  s.on('data', (c: Buffer) => {
    bytes += c.length;
    got.update(c);
  });
  s.write(`${total}\n`);
  assert.equal(await endOf(s), 'end');
  assert.equal(bytes, total);
  assert.equal(got.digest('hex'), expected.digest('hex'));
  s.destroy();
});

test('16 MiB echoed both ways at once arrives intact', async () => {
  const total = 16 * 1024 * 1024;
  const s = await connect(vipOf('weights'), PORT);
  const tag = await readLine(s);
  assert.ok(tag === 'a' || tag === 'b');
  const sent = createHash('sha256');
  const got = createHash('sha256');
  let bytes = 0;
  const done = new Promise<void>((resolve) => s.on('data', (c: Buffer) => {
    bytes += c.length;
    got.update(c);
    if (bytes >= total) resolve();
  }));
  s.resume();
  await writeAll(s, total, sent);
  await done;
  assert.equal(bytes, total);
  assert.equal(got.digest('hex'), sent.digest('hex'));
  s.destroy();
});

test('half-close from the client: the backend sees the FIN and can still answer', async () => {
  const s = await connect(vipOf('fin'), PORT);
  s.end('twelve bytes');
  assert.equal(await readLine(s), 'after-fin 12');
  assert.equal(await endOf(s), 'end');
  s.destroy();
});

test('half-close from the backend: the client sees the FIN and can still send', async () => {
  const s = await connect(vipOf('finfirst'), PORT);
  assert.equal(await readLine(s), 'bye');
  assert.equal(await endOf(s), 'end');
  s.end('written after the backend closed its side');
  await waitFor(() => lateReads.size > 0);
  const late = await Promise.race([[...lateReads.values()][0] ?? Promise.resolve('none'), sleep(5000).then(() => 'timeout')]);
  assert.equal(late, 'written after the backend closed its side');
  s.destroy();
});

test('a backend that dies mid-stream: the client is closed, the waypoint keeps serving', async () => {
  const s = await connect(vipOf('dies'), PORT);
  let bytes = 0;
  s.on('data', (c: Buffer) => (bytes += c.length));
  const how = await endOf(s);
  assert.ok(how === 'end' || how === 'ECONNRESET', `client saw ${how}`);
  assert.ok(bytes <= 256 * 1024);
  s.destroy();
  await waitFor(() => mesh.closed.some((r) => r.routeName === 'default.dies.0'));
  assert.equal(mesh.closed.find((r) => r.routeName === 'default.dies.0')?.details, 'upstream_reset');
  assert.equal(await firstLine(vipOf('weights')).then((w) => w === 'a' || w === 'b'), true);
});

test('backpressure downstream: a client that stops reading stalls the backend', async () => {
  const s = await connect(vipOf('firehose'), PORT);
  s.pause();
  await sleep(1000);
  const atOne = firehose.written;
  await sleep(1000);
  const atTwo = firehose.written;
  assert.ok(atTwo < 128 * 1024 * 1024, `backend pushed ${atTwo} bytes into a stalled path`);
  assert.ok(atTwo - atOne < 4 * 1024 * 1024, `still flowing while stalled: ${atOne} → ${atTwo}`);
  firehose.stop = true;
  let bytes = 0;
  s.on('data', (c: Buffer) => (bytes += c.length));
  assert.equal(await endOf(s), 'end');
  assert.equal(bytes, firehose.written);
  s.destroy();
});

test('backpressure upstream: a backend that stops reading stalls the client', async () => {
  const s = await connect(vipOf('stalled'), PORT);
  let written = 0;
  let stop = false;
  const chunk = PATTERN.subarray(0, 65536);
  const pump = (): void => {
    while (!stop) {
      written += chunk.length;
      if (!s.write(chunk)) return void s.once('drain', pump);
    }
  };
  pump();
  await sleep(1000);
  const atOne = written;
  await sleep(1000);
  assert.ok(written < 128 * 1024 * 1024, `client pushed ${written} bytes into a stalled path`);
  assert.ok(written - atOne < 4 * 1024 * 1024, `still flowing while stalled: ${atOne} → ${written}`);
  stop = true;
  s.end();
  for (const b of stalled.sockets) b.resume();
  await stalled.ended;
  assert.equal(stalled.read, written);
  s.destroy();
});

test('every connection is recorded once opened and once closed, with byte counts', async () => {
  await waitFor(() => mesh.closed.length === mesh.records.length, 5000);
  const ids = new Set(mesh.records.map((r) => r.id));
  assert.equal(ids.size, mesh.records.length, 'no connection is opened twice');
  for (const r of mesh.closed) assert.ok(ids.has(r.id), 'closed only after opened');
  assert.equal(new Set(mesh.closed.map((r) => r.id)).size, mesh.closed.length, 'no connection is closed twice');
  const served = mesh.closed.filter((r) => r.upstreamConnected);
  const received = served.reduce((n, r) => n + r.bytesReceived, 0);
  // At least the 128 MiB upload and the 16 MiB echo.
  assert.ok(received > 144 * 1024 * 1024, `bytes received from clients: ${received}`);
  assert.ok(mesh.closed.every((r) => r.endTime !== undefined && r.endTime >= r.startTime));
});
