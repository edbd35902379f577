import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { tapFanout } from './tap-fanout.js';

/** A stand-in for a worker's admin server: holds each /debug/tap response open for the test to write to. */
interface FakeWorker {
  readonly id: number;
  readonly adminPort: number;
  readonly streams: http.ServerResponse[];
  readonly server: http.Server;
  readonly paths: string[];
}

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.closeAllConnections();
  return Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function fakeWorker(id: number): Promise<FakeWorker> {
  const streams: http.ServerResponse[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.flushHeaders();
    streams.push(res);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { id, adminPort: (server.address() as AddressInfo).port, streams, server, paths };
}

async function primary(workers: ReadonlyArray<FakeWorker>, maxBufferBytes?: number): Promise<number> {
  const server = http.createServer((req, res) => tapFanout(workers, req.url ?? '/', res, maxBufferBytes));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function openClient(port: number, path: string): Promise<{ readonly req: http.ClientRequest; readonly res: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => resolve({ req, res }));
    req.on('error', reject);
  });
}

function lineReader(res: http.IncomingMessage): { readonly lines: Array<Record<string, unknown>>; readonly next: (n: number) => Promise<void> } {
  const lines: Array<Record<string, unknown>> = [];
  let partial = '';
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) lines.push(JSON.parse(p) as Record<string, unknown>);
    for (const w of waiters.splice(0)) (lines.length >= w.n ? w.resolve() : waiters.push(w));
  });
  return { lines, next: (n) => (lines.length >= n ? Promise.resolve() : new Promise((resolve) => void waiters.push({ n, resolve }))) };
}

test('lines of every worker are interleaved and tagged; closing the client closes every worker stream', async () => {
  const workers = [await fakeWorker(1), await fakeWorker(2)];
  const { req, res } = await openClient(await primary(workers), '/debug/tap?service=web');
  assert.equal(res.statusCode, 200);
  // Headers come once both workers have subscribed.
  assert.deepEqual(workers.map((w) => w.streams.length), [1, 1]);
  assert.deepEqual(workers.map((w) => w.paths[0]), ['/debug/tap?service=web', '/debug/tap?service=web']);
  const reader = lineReader(res);
  workers[0]?.streams[0]?.write('{"id":1,"service":"default/web"}\n');
  workers[1]?.streams[0]?.write('{"id":1,"serv');
  workers[1]?.streams[0]?.write('ice":"default/web"}\n{"id":2}\n');
  await reader.next(3);
  assert.deepEqual(reader.lines.map((l) => [l.worker, l.id]).sort(), [[1, 1], [2, 1], [2, 2]]);
  const closed = workers.map((w) => once(w.streams[0] as http.ServerResponse, 'close'));
  req.destroy();
  await Promise.all(closed);
});

test('a slow client gets lines dropped (never buffered without bound) and is told how many', async () => {
  const worker = await fakeWorker(1);
  const { res } = await openClient(await primary([worker], 16 * 1024), '/debug/tap');
  res.pause();
  const stream = worker.streams[0] as http.ServerResponse;
  const line = `{"pad":"${'x'.repeat(1000)}"}\n`;
  // Far more than loopback socket buffers hold while the client reads nothing.
  const total = 20_000;
  for (let i = 0; i < total - 1; i++) stream.write(line);
  await new Promise<void>((resolve) => stream.write(line, () => resolve()));
  const reader = lineReader(res);
  res.resume();
  // Once the client catches up, further lines go through again, after a report of what was dropped.
  let finals = 0;
  while (!reader.lines.some((l) => l.final === true)) {
    stream.write('{"final":true}\n');
    finals++;
    await new Promise((r) => setTimeout(r, 20));
  }
  const dropped = reader.lines.reduce((n, l) => n + (typeof l.dropped === 'number' ? l.dropped : 0), 0);
  const delivered = reader.lines.filter((l) => l.dropped === undefined).length;
  assert.ok(dropped > 0, 'lines were dropped');
  assert.ok(delivered < total, `not everything was delivered (${delivered})`);
  assert.ok(delivered + dropped <= total + finals, `${delivered} + ${dropped} accounts for no more than was sent`);
  assert.ok(reader.lines.every((l) => l.worker === 1 || typeof l.dropped === 'number'));
});
