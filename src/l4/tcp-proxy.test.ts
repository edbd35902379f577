// proxyTcp on real loopback sockets: connect timeout (a peer that never answers), connect failure, idle
// timeout, and that the client is closed cleanly (FIN, not a hang) whenever no upstream can be had.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { type Connector, proxyTcp, type TcpCounters, type TcpProxyEnd } from './tcp-proxy.js';

/** A connected client/server socket pair on loopback; `server` is the downstream the proxy gets. */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket; close: () => void }> {
  const listener = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  return { client, server, close: () => listener.close() };
}

/** A free loopback port (bound, then released). */
async function unusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A connector whose sockets never connect, as a black-holed address would behave. */
const neverConnects: Connector = () => new net.Socket();

function run(server: net.Socket, port: number, settings: { connectTimeoutMs: number; idleTimeoutMs: number }, connect?: Connector): { counters: TcpCounters; ended: Promise<TcpProxyEnd> } {
  const counters: TcpCounters = { bytesReceived: 0, bytesSent: 0, upstreamConnected: false };
  const ended = new Promise<TcpProxyEnd>((resolve) => proxyTcp(server, Buffer.from('hello'), '127.0.0.1', port, settings, counters, resolve, connect));
  return { counters, ended };
}

/** Resolves with how the client saw the connection end: `end` (FIN) or the error code. */
function clientEnd(client: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    client.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    client.on('end', () => resolve('end'));
    client.resume();
  });
}

const failures: ReadonlyArray<{ name: string; connect: Connector | undefined; refused: boolean; want: TcpProxyEnd }> = [
  { name: 'connect timeout', connect: neverConnects, refused: false, want: { kind: 'connect-failed', details: 'upstream_connection_timeout' } },
  { name: 'connection refused', connect: undefined, refused: true, want: { kind: 'connect-failed', details: 'upstream_connection_failure' } },
];

for (const c of failures) {
  test(`tcp proxy: ${c.name} closes the client with a FIN`, async () => {
    const pair = await socketPair();
    const seen = clientEnd(pair.client);
    pair.client.write('data the client sent before the upstream failed');
    const port = c.refused ? await unusedPort() : 9;
    const { counters, ended } = run(pair.server, port, { connectTimeoutMs: 200, idleTimeoutMs: 0 }, c.connect);
    assert.deepEqual(await ended, c.want);
    assert.equal(await seen, 'end');
    assert.equal(counters.upstreamConnected, false);
    pair.client.destroy();
    pair.close();
  });
}

test('tcp proxy: idle timeout closes both sides; the head is delivered first', async () => {
  const upstream = net.createServer();
  const got: Buffer[] = [];
  const upstreamClosed = new Promise<void>((resolve) => upstream.once('connection', (s) => {
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', () => undefined);
    s.once('close', () => resolve());
  }));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const pair = await socketPair();
  const seen = clientEnd(pair.client);
  const { counters, ended } = run(pair.server, (upstream.address() as net.AddressInfo).port, { connectTimeoutMs: 2000, idleTimeoutMs: 300 });
  pair.client.write(' world');
  assert.deepEqual(await ended, { kind: 'idle-timeout' });
  await upstreamClosed;
  assert.equal(Buffer.concat(got).toString(), 'hello world');
  assert.equal(counters.bytesReceived, 6, 'the head is counted by the caller, not twice');
  assert.equal(counters.upstreamConnected, true);
  assert.notEqual(await seen, 'pending');
  pair.close();
  upstream.close();
});
