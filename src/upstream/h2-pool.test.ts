import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import type { Dispatcher } from 'undici';
import { H2Pool, type H2PoolOptions } from './h2-pool.js';

const OPTIONS: H2PoolOptions = { connectTimeoutMs: 1000, idleTimeoutMs: 5000, pingIntervalMs: 0, pingTimeoutMs: 1000, maxConnections: 4, maxPending: 100 };
const closers: Array<() => void> = [];
after(() => {
  for (const c of closers) c();
});

interface Outcome {
  readonly status: number;
  readonly body: string;
  readonly trailers: Record<string, unknown>;
}

function send(pool: H2Pool, path: string, body?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    const handler: Dispatcher.DispatchHandler = {
      onResponseStart: (_c, s) => void (status = s),
      onResponseData: (_c, chunk) => void chunks.push(chunk),
      onResponseEnd: (_c, trailers) => resolve({ status, body: Buffer.concat(chunks).toString(), trailers }),
      onResponseError: (_c, err) => reject(err),
    };
    pool.dispatch({ path, method: body === undefined ? 'GET' : 'POST', headers: ['host', 'backend'], body: body === undefined ? null : Readable.from([Buffer.from(body)]) }, handler);
  });
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** Echoes the request body back; `hold` ms before answering. */
function echoServer(settings: http2.Settings, hold: number, onStream?: (s: http2.ServerHttp2Stream) => boolean): { server: http2.Http2Server; maxActive: () => number } {
  let active = 0;
  let max = 0;
  const server = http2.createServer({ settings });
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    if (onStream?.(stream) === true) return;
    active++;
    max = Math.max(max, active);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () =>
      setTimeout(() => {
        active--;
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-done': 'yes' }));
        stream.end(Buffer.concat(chunks));
      }, hold));
  });
  return { server, maxActive: () => max };
}

test('requests are multiplexed within the peer\'s SETTINGS_MAX_CONCURRENT_STREAMS; trailers are delivered', async () => {
  const { server, maxActive } = echoServer({ maxConcurrentStreams: 2 }, 30);
  const pool = new H2Pool('127.0.0.1', await listen(server), { ...OPTIONS, maxConnections: 1 });
  const results = await Promise.all([...Array(10).keys()].map((i) => send(pool, `/r${i}`, `body ${i}`)));
  assert.deepEqual(results.map((r) => r.body), [...Array(10).keys()].map((i) => `body ${i}`));
  assert.equal(results[0]?.trailers['x-done'], 'yes');
  assert.ok(maxActive() <= 2, `at most 2 streams at once, saw ${maxActive()}`);
  await pool.destroy();
});

test('a REFUSED_STREAM is retried, with the request body replayed', async () => {
  let refused = 0;
  const { server } = echoServer({}, 0, (stream) => {
    if (refused > 0) return false;
    refused++;
    stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    return true;
  });
  const pool = new H2Pool('127.0.0.1', await listen(server), OPTIONS);
  const r = await send(pool, '/x', 'replayed body');
  assert.equal(refused, 1);
  assert.equal(r.body, 'replayed body');
  await pool.destroy();
});

test('streams above a GOAWAY\'s last stream id are retried on a new connection', async () => {
  // First connection: a raw peer that answers the first HEADERS with GOAWAY(NO_ERROR, last stream 0),
  // i.e. "not processed" (node's own goaway() cannot send 0). Later connections: a real HTTP/2 server.
  let connections = 0;
  const h2 = http2.createServer((_req, res) => res.end('second connection'));
  const server = net.createServer((socket) => {
    connections++;
    if (connections > 1) return void h2.emit('connection', socket);
    socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
    socket.on('data', (chunk: Buffer) => {
      // Any HEADERS frame (type 1) from the client: refuse everything with GOAWAY.
      if (chunk.includes(Buffer.from([1, 5, 0, 0, 0, 1])) || chunk.includes(Buffer.from([1, 4, 0, 0, 0, 1]))) {
        socket.write(Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
      }
    });
    socket.on('error', () => undefined);
  });
  const pool = new H2Pool('127.0.0.1', await listen(server), OPTIONS);
  const r = await send(pool, '/x', 'b');
  assert.equal(r.body, 'second connection');
  assert.equal(connections, 2);
  await pool.destroy();
});

test('an unanswered PING fails the connection and its streams', async () => {
  // Speaks just enough HTTP/2 to look alive (SETTINGS and its ACK), then never answers anything.
  const server = net.createServer((socket) => {
    socket.on('data', () => undefined);
    socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0]));
  });
  const pool = new H2Pool('127.0.0.1', await listen(server), { ...OPTIONS, pingIntervalMs: 100, pingTimeoutMs: 100 });
  await assert.rejects(send(pool, '/hang'), (err) => (err as { code?: string }).code === 'H2_PING_TIMEOUT');
  await pool.destroy();
});

test('a refused connection fails the waiting requests with the connect error', async () => {
  const probe = net.createServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const pool = new H2Pool('127.0.0.1', port, OPTIONS);
  await assert.rejects(send(pool, '/x'), (err) => (err as { code?: string }).code === 'ECONNREFUSED');
  await pool.destroy();
});
