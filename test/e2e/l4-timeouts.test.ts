// End to end: the L4 timeouts with short settings: idle connections are closed, active ones are not, and
// a ClientHello that never completes (stalled, or dribbled byte by byte) is cut off.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { L4ConnectionRecord } from '../../src/l4/connection-record.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { waitFor } from '../harness/mesh.js';
import { connect, endOf, type L4Mesh, l4RouteYaml, type Peer, readLine, startL4Mesh, startTcpPeer, tagAndEcho } from './l4-peers.js';

const vip = vipRange();
const PLAIN = vip(1);
const SECURE = vip(2);
const IDLE_MS = 800;
const HELLO_MS = 500;
let mesh: L4Mesh;
let echo: Peer;

before(async () => {
  echo = await startTcpPeer('echo', tagAndEcho);
  mesh = await startL4Mesh({
    'mesh.yaml': [
      meshPreamble(),
      serviceYaml({ name: 'plain', vip: PLAIN, port: 5432, portName: 'tcp', endpoints: [`127.0.0.1:${echo.port}`] }),
      serviceYaml({ name: 'secure', vip: SECURE, port: 443, portName: 'tls', endpoints: [] }),
      l4RouteYaml({ kind: 'TLSRoute', name: 'r', service: 'secure', port: 443, hostnames: ['a.example.com'], backends: ['plain:5432'] }),
    ].join('\n'),
  }, { idleTimeoutMs: IDLE_MS, clientHelloTimeoutMs: HELLO_MS });
});

after(async () => {
  await mesh.close();
  await echo.close();
});

/** The first connection to Service `service` that closed after `from` records had closed. */
async function closedOn(service: string, from: number): Promise<L4ConnectionRecord> {
  const find = (): L4ConnectionRecord | undefined => mesh.closed.slice(from).find((r) => r.listener.service.name === service);
  await waitFor(() => find() !== undefined, 10_000);
  return find() as L4ConnectionRecord;
}

test('an idle TCP connection is closed after the idle timeout', async () => {
  const from = mesh.closed.length;
  const s = await connect(PLAIN, 5432);
  assert.equal(await readLine(s), 'echo');
  const start = Date.now();
  assert.equal(await endOf(s), 'end');
  const waited = Date.now() - start;
  // Sanity bounds only: not closed right away, and not left open.
  assert.ok(waited >= IDLE_MS / 2 && waited < 10_000, `closed after ${waited} ms`);
  s.destroy();
  assert.equal((await closedOn('plain', from)).details, 'idle_timeout');
});

test('a connection with traffic more often than the idle timeout stays open', async () => {
  const s = await connect(PLAIN, 5432);
  assert.equal(await readLine(s), 'echo');
  let ended = false;
  s.once('end', () => (ended = true));
  let echoed = 0;
  s.on('data', (c: Buffer) => (echoed += c.length));
  s.resume();
  for (let i = 0; i < 25; i++) {
    s.write('.');
    await sleep(100);
  }
  assert.equal(ended, false, 'the waypoint closed an active connection');
  await waitFor(() => echoed === 25);
  s.destroy();
});

test('a ClientHello that stalls is cut off by the ClientHello timeout', async () => {
  const from = mesh.closed.length;
  const s = await connect(SECURE, 443);
  s.write(Buffer.from([22, 3, 1]));
  assert.equal(await endOf(s), 'end');
  s.destroy();
  const r = await closedOn('secure', from);
  assert.equal(r.details, 'client_hello_timeout');
  assert.equal(r.responseFlags, 'NR');
});

test('a ClientHello dribbled a byte at a time is cut off too (the timeout is not reset by bytes)', async () => {
  const from = mesh.closed.length;
  const s = await connect(SECURE, 443);
  let ended = false;
  const end = endOf(s).then((how) => {
    ended = true;
    return how;
  });
  const hello = Buffer.concat([Buffer.from([22, 3, 1, 0x01, 0x00, 1, 0, 0, 0xfc]), Buffer.alloc(0xfc, 3)]);
  for (let i = 0; i < hello.length && !ended; i++) {
    s.write(hello.subarray(i, i + 1));
    await sleep(50);
  }
  assert.equal(await end, 'end');
  s.destroy();
  assert.equal((await closedOn('secure', from)).details, 'client_hello_timeout');
});
