import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import { after, test } from 'node:test';
import type { Dispatcher } from 'undici';
import { H1Pool, type H1PoolOptions } from './h1-pool.js';
import type { H1DispatchOptions } from './h1-request.js';

const closers: Array<() => void> = [];
after(() => {
  for (const c of closers) c();
});

interface Received {
  readonly head: string;
  readonly body: string;
  /** Requests on this connection so far, this one included. */
  readonly index: number;
  /** Connection number on the server (1-based). */
  readonly conn: number;
}

type Responder = (socket: net.Socket, req: Received) => void | Promise<void>;

/** A raw TCP server that reads HTTP/1.1 requests (Content-Length or chunked bodies) and lets `respond` write anything. */
async function rawServer(respond: Responder): Promise<{ port: number; connections: () => number; requests: Received[] }> {
  let conns = 0;
  const requests: Received[] = [];
  const server = net.createServer((socket) => {
    const conn = ++conns;
    let index = 0;
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        let rest = buf.slice(end + 4);
        let body = '';
        const cl = /\r\ncontent-length: (\d+)/i.exec(head);
        if (cl !== null) {
          const n = Number(cl[1]);
          if (rest.length < n) return;
          body = rest.slice(0, n);
          rest = rest.slice(n);
        } else if (/\r\ntransfer-encoding: chunked/i.test(head)) {
          const term = rest.indexOf('0\r\n\r\n');
          if (term < 0) return;
          body = dechunk(rest.slice(0, term + 5));
          rest = rest.slice(term + 5);
        }
        buf = rest;
        const req = { head, body, index: ++index, conn };
        requests.push(req);
        void respond(socket, req);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => server.close());
  return { port: (server.address() as AddressInfo).port, connections: () => conns, requests };
}

function dechunk(s: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = s.indexOf('\r\n', i);
    const size = parseInt(s.slice(i, eol), 16);
    if (size === 0) return out;
    out += s.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}

function pool(port: number, over: Partial<H1PoolOptions> = {}): H1Pool {
  const p = new H1Pool({ host: '127.0.0.1', port, tls: false, connect: undefined, connectTimeoutMs: 1000, idleTimeoutMs: 10_000, maxConnections: undefined, maxRequestsPerConnection: 0, ...over });
  closers.push(() => void p.destroy());
  return p;
}

interface Outcome {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly body: string;
  readonly trailers: Record<string, unknown>;
}

function send(p: H1Pool, opts: Partial<H1DispatchOptions> = {}, hooks: Partial<Dispatcher.DispatchHandler> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    p.dispatch({ path: '/', method: 'GET', headers: ['host', 'backend'], body: null, ...opts }, {
      onResponseStart: (_c, s, h) => {
        status = s;
        headers = h;
      },
      onResponseData: (_c, chunk) => void chunks.push(Buffer.from(chunk)),
      onResponseEnd: (_c, trailers) => resolve({ status, headers, body: Buffer.concat(chunks).toString('latin1'), trailers }),
      onResponseError: (_c, err) => reject(err),
      ...hooks,
    });
  });
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;

/** Writes `wire` one byte per event-loop turn (with Nagle off, most bytes travel alone). */
async function dribble(socket: net.Socket, wire: string): Promise<void> {
  socket.setNoDelay(true);
  for (const ch of wire) {
    socket.write(ch, 'latin1');
    await new Promise((r) => setImmediate(r));
  }
}

interface WireCase {
  readonly name: string;
  readonly method?: string;
  readonly wire: string;
  readonly dribble?: boolean;
  /** The server closes after writing (close-delimited bodies). */
  readonly close?: boolean;
  readonly status: number;
  readonly body: string;
  readonly trailers?: Record<string, unknown>;
  /** Whether the next request reuses the connection. */
  readonly reused: boolean;
}

const wireCases: WireCase[] = [
  { name: 'Content-Length body', wire: ok('hello'), status: 200, body: 'hello', reused: true },
  { name: 'Content-Length body, one byte per write', wire: ok('hello', 'X-A: 1\r\n'), dribble: true, status: 200, body: 'hello', reused: true },
  {
    name: 'chunked with extensions and trailers, one byte per write',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 7\r\n\r\n',
    dribble: true, status: 200, body: 'abcde', trailers: { 'x-checksum': '7' }, reused: true,
  },
  { name: 'close-delimited body', wire: 'HTTP/1.1 200 OK\r\n\r\nread until close', close: true, status: 200, body: 'read until close', reused: false },
  { name: '304 with Content-Length', wire: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n', status: 304, body: '', reused: true },
  { name: 'HEAD with Content-Length', method: 'HEAD', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n', status: 200, body: '', reused: true },
  { name: 'Connection: close from the server', wire: ok('bye', 'Connection: close\r\n'), status: 200, body: 'bye', reused: false },
  { name: '100 Continue then the response', wire: `HTTP/1.1 100 Continue\r\n\r\n${ok('after')}`, status: 200, body: 'after', reused: true },
];

for (const c of wireCases) {
  test(`pool: ${c.name}`, async () => {
    const server = await rawServer(async (socket, req) => {
      if (req.index > 1 || req.head.includes('/second')) {
        socket.write(ok('second'));
        return;
      }
      if (c.dribble === true) await dribble(socket, c.wire);
      else socket.write(c.wire, 'latin1');
      if (c.close === true) socket.end();
    });
    const p = pool(server.port);
    const res = await send(p, { method: c.method ?? 'GET' });
    assert.equal(res.status, c.status);
    assert.equal(res.body, c.body);
    assert.deepEqual({ ...res.trailers }, c.trailers ?? {});
    const second = await send(p, { path: '/second' });
    assert.equal(second.body, 'second');
    assert.equal(server.connections(), c.reused ? 1 : 2);
  });
}

test('pool: the request head is one write with Host first, fields in order and case, framing from the body', async () => {
  const server = await rawServer((socket) => void socket.write(ok('')));
  const p = pool(server.port);
  await send(p, { method: 'POST', headers: ['Host', 'svc:80', 'X-B', '2', 'x-a', '1', 'Content-Length', '3'], body: Buffer.from('abc') });
  await send(p, { method: 'PUT', headers: { host: 'svc', 'x-list': ['1', '2'] }, body: Readable.from([Buffer.from('chunk1'), Buffer.from('chunk2')]) });
  await send(p, { method: 'POST', headers: ['host', 'svc'], body: null });
  await send(p, { method: 'GET', headers: ['x-no-host', 'y'], body: null });
  const [a, b, c, d] = server.requests;
  assert.equal(a?.head, 'POST / HTTP/1.1\r\nhost: svc:80\r\nconnection: keep-alive\r\nX-B: 2\r\nx-a: 1\r\ncontent-length: 3');
  assert.equal(a?.body, 'abc');
  assert.equal(b?.head, 'PUT / HTTP/1.1\r\nhost: svc\r\nconnection: keep-alive\r\nx-list: 1\r\nx-list: 2\r\ntransfer-encoding: chunked');
  assert.equal(b?.body, 'chunk1chunk2');
  assert.equal(c?.head, 'POST / HTTP/1.1\r\nhost: svc\r\nconnection: keep-alive\r\ncontent-length: 0');
  assert.equal(d?.head, `GET / HTTP/1.1\r\nhost: 127.0.0.1:${server.port}\r\nconnection: keep-alive\r\nx-no-host: y`);
  assert.equal(server.connections(), 1);
});

test('pool: a header value with CR/LF is refused before anything is sent', async () => {
  const server = await rawServer((socket) => void socket.write(ok('')));
  const p = pool(server.port);
  await assert.rejects(send(p, { headers: ['x-evil', 'a\r\nx-injected: 1'] }), (err: Error & { code?: string }) => err.code === 'UND_ERR_INVALID_ARG');
  assert.equal(server.requests.length, 0);
});

test('pool: a server that closes an idle connection: the pool notices and opens a new one', async () => {
  const server = await rawServer((socket) => {
    socket.write(ok('x'));
    setTimeout(() => socket.destroy(), 20);
  });
  const p = pool(server.port);
  await send(p);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(p.stats.connected, 0);
  assert.equal((await send(p)).body, 'x');
  assert.equal(server.connections(), 2);
});

test('pool: a reused connection reset after the request was sent is reported, not retried (the route\'s retry policy decides)', async () => {
  const server = await rawServer((socket, req) => {
    if (req.index === 2) socket.resetAndDestroy();
    else socket.write(ok(`conn ${req.conn}`));
  });
  const p = pool(server.port);
  assert.equal((await send(p)).body, 'conn 1');
  await assert.rejects(send(p), (err: Error & { code?: string }) => err.code === 'ECONNRESET' || err.code === 'UND_ERR_SOCKET');
  assert.equal(server.requests.length, 2);
  assert.equal((await send(p)).body, 'conn 2');
});

test('pool: a connection idle over a second is checked before reuse: a close not yet read is noticed first', async () => {
  const sockets: net.Socket[] = [];
  const server = await rawServer((socket, req) => {
    sockets.push(socket);
    socket.write(ok(`conn ${req.conn}`));
  });
  const p = pool(server.port);
  assert.equal((await send(p)).body, 'conn 1');
  await new Promise((r) => setTimeout(r, 1100));
  // The server closes its end, and the request is dispatched in the same turn: the FIN is in the kernel,
  // not yet read by the pool.
  sockets[0]?.destroy();
  assert.equal((await send(p)).body, 'conn 2');
  assert.equal(server.requests.length, 2);
});

test('pool: a response cut short fails with the connection-closed code', async () => {
  const server = await rawServer((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
    socket.end();
  });
  const p = pool(server.port);
  let started = false;
  await assert.rejects(send(p, {}, { onResponseStart: () => void (started = true) }), (err: Error & { code?: string }) => err.code === 'UND_ERR_SOCKET');
  assert.equal(started, true);
});

test('pool: backpressure: pause stops the body, resume delivers the rest', async () => {
  const big = 'x'.repeat(4 * 1024 * 1024);
  const server = await rawServer((socket) => void socket.write(ok(big)));
  const p = pool(server.port);
  let received = 0;
  let controller: Dispatcher.DispatchController | undefined;
  let whilePaused = -1;
  const done = send(p, {}, {
    onResponseData: (c, chunk) => {
      received += chunk.length;
      if (controller === undefined) {
        controller = c;
        c.pause();
        setTimeout(() => {
          whilePaused = received;
          c.resume();
        }, 200);
      }
    },
    onResponseEnd: () => undefined,
  });
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (received >= big.length) {
        clearInterval(t);
        resolve();
      }
    }, 10);
  });
  void done;
  assert.ok(whilePaused > 0 && whilePaused < big.length, `paused after ${whilePaused} bytes of ${big.length}`);
  assert.equal(received, big.length);
});

test('pool: maxConnections 1 queues the second request (stats.pending) and never opens a second connection', async () => {
  const server = await rawServer((socket, req) => void setTimeout(() => socket.write(ok(`r${req.conn}.${req.index}`)), 50));
  const p = pool(server.port, { maxConnections: 1 });
  const a = send(p);
  const b = send(p);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual({ ...p.stats }, { connected: 1, free: 0, pending: 1, running: 1, size: 2 });
  assert.deepEqual([(await a).body, (await b).body], ['r1.1', 'r1.2']);
  assert.equal(server.connections(), 1);
  assert.equal(p.stats.free, 1);
});

test('pool: maxRequestsPerConnection 2: the second request says close and a third opens a new connection', async () => {
  const server = await rawServer((socket) => void socket.write(ok('')));
  const p = pool(server.port, { maxRequestsPerConnection: 2 });
  for (let i = 0; i < 3; i++) await send(p);
  assert.equal(server.connections(), 2);
  assert.match(server.requests[0]?.head ?? '', /connection: keep-alive/);
  assert.match(server.requests[1]?.head ?? '', /connection: close/);
});

test('pool: idle timeout closes a pooled connection', async () => {
  const server = await rawServer((socket) => void socket.write(ok('')));
  const p = pool(server.port, { idleTimeoutMs: 50 });
  await send(p);
  assert.equal(p.stats.free, 1);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(p.stats.connected, 0);
  await send(p);
  assert.equal(server.connections(), 2);
});

test('pool: Keep-Alive timeout from the server shortens the idle time (minus a margin, as undici)', async () => {
  const server = await rawServer((socket) => void socket.write(ok('', 'Keep-Alive: timeout=2\r\n')));
  const p = pool(server.port);
  await send(p);
  await new Promise((r) => setTimeout(r, 100));
  // 2 s hint minus the 2 s margin: not kept at all.
  assert.equal(p.stats.connected, 0);
});

interface FailCase {
  readonly name: string;
  readonly over: () => Promise<Partial<H1PoolOptions> & { port?: number }>;
  readonly code: string;
}

const failCases: FailCase[] = [
  {
    name: 'connection refused',
    over: async () => {
      const s = net.createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      const port = (s.address() as AddressInfo).port;
      await new Promise((r) => s.close(r));
      return { port };
    },
    code: 'ECONNREFUSED',
  },
  { name: 'connect timeout (a connector that never answers)', over: async () => ({ connect: () => undefined, connectTimeoutMs: 50 }), code: 'UND_ERR_CONNECT_TIMEOUT' },
  { name: 'malformed status line', over: async () => ({ port: (await rawServer((s) => void s.write('SSH-2.0-x\r\n\r\n'))).port }), code: 'HPE_INVALID_CONSTANT' },
];

for (const c of failCases) {
  test(`pool fails with ${c.code}: ${c.name}`, async () => {
    const { port, ...over } = await c.over();
    const p = pool(port ?? 9, over);
    await assert.rejects(send(p), (err: Error & { code?: string }) => err.code === c.code);
    assert.equal(p.stats.pending, 0);
  });
}

test('pool: a connector function (HBONE-style) supplies the connection', async () => {
  const server = await rawServer((socket) => void socket.write(ok('via connector')));
  let dials = 0;
  const p = pool(9, {
    connect: (_opts, cb) => {
      dials++;
      const s = net.connect(server.port, '127.0.0.1');
      s.once('connect', () => cb(null, s));
      s.once('error', (e) => cb(e, null));
    },
  });
  assert.equal((await send(p)).body, 'via connector');
  assert.equal((await send(p)).body, 'via connector');
  assert.equal(dials, 1);
});

test('pool: abort mid-response reports the reason and closes that connection only', async () => {
  const server = await rawServer((socket, req) => {
    if (req.conn === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome');
    else socket.write(ok('fresh'));
  });
  const p = pool(server.port);
  const reason = new Error('client went away');
  await assert.rejects(send(p, {}, { onResponseData: (c) => c.abort(reason) }), (err) => err === reason);
  assert.equal((await send(p)).body, 'fresh');
  assert.equal(server.connections(), 2);
});

test('pool: upgrade: on 101 the socket is handed over with the bytes that followed the head', async () => {
  const server = await rawServer((socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nfirst-frame');
    socket.on('data', (d: Buffer) => {
      if (!d.toString().startsWith('GET')) socket.write(`echo:${d.toString()}`);
    });
  });
  const p = pool(server.port);
  const result = await new Promise<{ status: number; head: string; socket: Duplex }>((resolve, reject) => {
    p.dispatch({ path: '/ws', method: 'GET', headers: ['host', 'svc'], body: null, upgrade: 'websocket' }, {
      onRequestUpgrade: (_c: Dispatcher.DispatchController, status: number, _h: unknown, socket: Duplex) => resolve({ status, head: server.requests[0]?.head ?? '', socket }),
      onResponseError: (_c, err) => reject(err),
    } as Dispatcher.DispatchHandler);
  });
  assert.equal(result.status, 101);
  assert.match(result.head, /connection: upgrade\r\nupgrade: websocket/);
  const got: string[] = [];
  // Handed over paused (nothing is read until its new owner is ready): pipe() or resume() starts it.
  result.socket.on('data', (d: Buffer) => got.push(d.toString()));
  result.socket.resume();
  result.socket.write('ping');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(got.join(''), 'first-frameecho:ping');
  result.socket.destroy();
  assert.equal(p.stats.connected, 0);
});

test('pool: destroy fails queued and running requests; close lets them finish', async () => {
  const server = await rawServer((socket) => void setTimeout(() => socket.write(ok('late')), 50));
  const p = pool(server.port, { maxConnections: 1 });
  const a = send(p);
  const b = send(p);
  await new Promise((r) => setTimeout(r, 10));
  await p.destroy();
  await assert.rejects(a, (err: Error & { code?: string }) => err.code === 'UND_ERR_DESTROYED');
  await assert.rejects(b, (err: Error & { code?: string }) => err.code === 'UND_ERR_DESTROYED');

  const q = pool(server.port, { maxConnections: 1 });
  const c = send(q);
  const d = send(q);
  await new Promise((r) => setTimeout(r, 10));
  const closed = q.close();
  assert.deepEqual([(await c).body, (await d).body], ['late', 'late']);
  await closed;
  assert.equal(q.stats.connected, 0);
});
