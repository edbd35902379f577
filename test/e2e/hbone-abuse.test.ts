// Hostile HBONE peers: a stream flood past the concurrent-stream limit, rapid open/reset, a peer that
// never reads, spoofed Forwarded headers. Each is refused or cut with bounded memory while other
// tunnels keep working.
import assert from 'node:assert/strict';
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { createPki, type Svid, type TestPki } from '../harness/hbone-certs.js';
import { hboneConnect, openTunnel, requestThrough, tunnelRequest } from '../harness/hbone-client.js';
import { type HboneMesh, startHboneMesh } from '../harness/hbone-mesh.js';
import { connectHeaders, FRAME, frame, rawPeer, rstStream } from '../harness/hbone-raw.js';
import { waitFor } from '../harness/mesh.js';

const vip = vipRange();
const MiB = 1024 * 1024;
let pki: TestPki;
let mesh: HboneMesh;
let web: Backend;
let firehose: Backend;
let sleep: Svid;
let ztunnel: Svid;
/** Bytes the firehose backend managed to write, and whether its response was torn down. */
const hose = { written: 0, closed: false };

before(async () => {
  pki = await createPki();
  sleep = await pki.issue('spiffe://cluster.local/ns/client/sa/sleep');
  ztunnel = await pki.issue('spiffe://cluster.local/ns/istio-system/sa/ztunnel');
  web = await startBackend('web');
  firehose = await startBackend('firehose', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    // 256 MiB in 64 KiB chunks, written only as fast as the path to the client drains.
    const chunk = Buffer.alloc(64 * 1024, 120);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.once('close', () => (hose.closed = true));
    const pump = (): void => {
      while (hose.written < 256 * MiB && !res.destroyed) {
        hose.written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  mesh = await startHboneMesh(pki, {
    'mesh.yaml': meshPreamble()
      + serviceYaml({ name: 'web', vip: vip(1), endpoints: [`127.0.0.1:${web.port}`] })
      + serviceYaml({ name: 'firehose', vip: vip(2), endpoints: [`127.0.0.1:${firehose.port}`] }),
  }, {
    settings: {
      trustForwardedFrom: ['spiffe://cluster.local/ns/istio-system/*'],
      limits: { keepalive: { intervalMs: 200, timeoutMs: 600 }, handshakeTimeoutMs: 500 },
    },
  });
});

after(async () => {
  await mesh.close();
  await Promise.all([web.close(), firehose.close()]);
  await pki.close();
});

const stats = () => {
  const s = mesh.waypoint.hbone?.server?.stats;
  assert.ok(s !== undefined);
  return s;
};

async function othersStillServed(): Promise<void> {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: sleep, ca: pki.ca });
  try {
    assert.equal((await tunnelRequest(session, `${vip(1)}:80`)).status, 200);
  } finally {
    session.close();
  }
}

test('stream flood: CONNECTs past the 100-stream limit are refused, never accepted', async () => {
  const peer = await rawPeer(mesh.hbone.host, mesh.hbone.port, { ca: pki.ca.certPem, cert: sleep.certPem, key: sleep.keyPem });
  const frames: Buffer[] = [];
  for (let i = 0; i < 300; i++) frames.push(connectHeaders(1 + 2 * i, `${vip(1)}:80`));
  let closed = false;
  void peer.closed.then(() => (closed = true));
  peer.send(Buffer.concat(frames));
  // Refused streams (REFUSED_STREAM), a GOAWAY, or — past 100 refusals — the connection is cut.
  await waitFor(() => closed || (peer.received.get(FRAME.RST_STREAM) ?? 0) > 0 || (peer.received.get(FRAME.GOAWAY) ?? 0) > 0, 10_000);
  assert.ok(stats().streamsPeak <= 100, `peak ${stats().streamsPeak} concurrent tunnel streams`);
  peer.socket.destroy();
  await othersStillServed();
});

test('rapid open/reset: thousands of CONNECT+RST_STREAM pairs leave nothing behind', async () => {
  const peer = await rawPeer(mesh.hbone.host, mesh.hbone.port, { ca: pki.ca.certPem, cert: sleep.certPem, key: sleep.keyPem });
  const frames: Buffer[] = [];
  for (let i = 0; i < 5000; i++) frames.push(connectHeaders(1 + 2 * i, `${vip(1)}:80`), rstStream(1 + 2 * i));
  peer.send(Buffer.concat(frames));
  await Promise.race([peer.closed, new Promise((r) => setTimeout(r, 3000))]);
  peer.socket.destroy();
  await waitFor(() => stats().streamsActive === 0, 5000);
  assert.ok(stats().streamsPeak <= 100);
  await othersStillServed();
});

test('a peer that never reads: backpressure reaches the backend, keepalive cuts the connection', async () => {
  // A relay that forwards the client's bytes but stops delivering the waypoint's once the tunnel is up.
  let stalled = false;
  const relay = net.createServer((client) => {
    const upstream = net.connect(mesh.hbone.port, mesh.hbone.host);
    client.pipe(upstream);
    upstream.on('data', (c: Buffer) => {
      if (stalled) return void upstream.pause();
      client.write(c);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  const relayPort = (relay.address() as net.AddressInfo).port;
  hose.written = 0;
  hose.closed = false;
  const timeoutsBefore = stats().keepaliveTimeouts;
  const session = hboneConnect('127.0.0.1', relayPort, { identity: sleep, ca: pki.ca });
  try {
    const stream = await openTunnel(session, `${vip(2)}:80`);
    stalled = true;
    void requestThrough(stream, { path: '/firehose' }).catch(() => undefined);
    await waitFor(() => hose.written > 0, 5000);
    // Whatever the kernel and HTTP/2 windows hold, the backend is held back far below what it wants to send.
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(hose.written < 32 * MiB, `backend wrote ${(hose.written / MiB).toFixed(1)} MiB into a peer that reads nothing`);
    await waitFor(() => stats().keepaliveTimeouts > timeoutsBefore, 5000);
    await waitFor(() => hose.closed, 5000);
    await othersStillServed();
  } finally {
    session.destroy();
    await new Promise((r) => relay.close(r));
  }
});

const forwarded: ReadonlyArray<{ name: string; who: () => Svid; want: string }> = [
  { name: 'a trusted peer (ztunnel) sets the source address', who: () => ztunnel, want: '10.1.2.3' },
  { name: 'any other peer cannot spoof it', who: () => sleep, want: '127.0.0.1' },
];
for (const c of forwarded) {
  test(`Forwarded: ${c.name}`, async () => {
    const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: c.who(), ca: pki.ca });
    try {
      await tunnelRequest(session, `${vip(1)}:80`, { connectHeaders: { forwarded: 'for="10.1.2.3:999"' } });
      assert.equal(mesh.records.at(-1)?.conn.remoteAddress, c.want);
    } finally {
      session.close();
    }
  });
}

/** Resolves true once `socket` closes, false if it is still open after `ms`. */
function closesWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

test('silent connections and a ClientHello that never completes are closed by the handshake timeout; tunnels keep working', async () => {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < 50; i++) {
    const s = net.connect(mesh.hbone.port, mesh.hbone.host);
    s.on('error', () => undefined);
    s.resume();
    sockets.push(s);
  }
  // A real ClientHello cut after its first bytes (record header and handshake type only).
  const partial = net.connect(mesh.hbone.port, mesh.hbone.host);
  partial.on('error', () => undefined);
  partial.resume();
  partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]));
  sockets.push(partial);
  await othersStillServed();
  const closed = await Promise.all(sockets.map((s) => closesWithin(s, 5000)));
  assert.equal(closed.filter(Boolean).length, sockets.length, 'every stalled handshake was closed (handshake timeout 500 ms)');
  await othersStillServed();
});

test('bytes that are not HTTP/2 after a valid handshake end that connection only', async () => {
  const socket = tls.connect({ host: mesh.hbone.host, port: mesh.hbone.port, ca: pki.ca.certPem, cert: sleep.certPem, key: sleep.keyPem, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined });
  socket.on('error', () => undefined);
  await new Promise<void>((r) => socket.once('secureConnect', () => r()));
  socket.resume(); // read what the waypoint sends (its SETTINGS, then GOAWAY), so its close is seen
  socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n' + 'A'.repeat(8192));
  assert.ok(await closesWithin(socket, 5000), 'the connection was closed, not left hanging');
  await othersStillServed();
});

test('a CONNECT with an oversized header list is refused without opening a tunnel', async () => {
  const peer = await rawPeer(mesh.hbone.host, mesh.hbone.port, { ca: pki.ca.certPem, cert: sleep.certPem, key: sleep.keyPem });
  let closed = false;
  void peer.closed.then(() => (closed = true));
  const authority = `${vip(1)}:80`;
  const connectWith = (streamId: number, pads: number): Buffer => {
    const fields: Buffer[] = [Buffer.from([0x00, 7]), Buffer.from(':method'), Buffer.from([7]), Buffer.from('CONNECT')];
    fields.push(Buffer.from([0x00, 10]), Buffer.from(':authority'), Buffer.from([authority.length]), Buffer.from(authority));
    for (let i = 0; i < pads; i++) {
      const name = `x-pad-${String(i).padStart(3, '0')}`;
      fields.push(Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([100]), Buffer.alloc(100, 97));
    }
    return frame(FRAME.HEADERS, 0x4 /* END_HEADERS */, streamId, Buffer.concat(fields));
  };
  // Control: the same encoding with 10 extra fields opens a tunnel (answered with HEADERS 200).
  const accepted = stats().streamsTotal;
  peer.send(connectWith(1, 10));
  await waitFor(() => stats().streamsTotal > accepted, 5000);
  // 100 fields of ~110 bytes: past the 64-pair limit.
  const before = stats().streamsTotal;
  peer.send(connectWith(3, 100));
  await waitFor(() => closed || peer.resets.length > 0 || (peer.received.get(FRAME.GOAWAY) ?? 0) > 0, 5000);
  assert.equal(stats().streamsTotal, before, 'the oversized CONNECT was not accepted');
  peer.socket.destroy();
  await othersStillServed();
});
