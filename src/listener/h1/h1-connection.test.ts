import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { H1Connection } from './h1-connection.js';
import type { H1Request } from './h1-request.js';
import type { H1Response } from './h1-response.js';

// A real socket server: the fast path serves what it understands, node:http the rest (its answers carry
// `x-served-by: node`), so each case shows who answered and the exact bytes on the wire.
let server: net.Server;
let port = 0;
const events: string[] = [];

function fastHandler(req: H1Request, res: H1Response): void {
  const path = req.url;
  res.once('close', () => events.push(`close ${path} finished=${res.finished} destroyed=${res.destroyed}`));
  if (path === '/len') {
    res.writeHead(200, ['content-length', '5', 'date', 'D']);
    res.end(Buffer.from('hello'));
  } else if (path === '/chunked') {
    res.writeHead(200, ['date', 'D']);
    res.write(Buffer.from('ab'));
    res.write(Buffer.from('cde'));
    res.addTrailers({ 'grpc-status': '0' });
    res.end();
  } else if (path === '/end-body') {
    res.writeHead(201, ['date', 'D']);
    res.end('xyz');
  } else if (path === '/no-content') {
    res.writeHead(204, ['date', 'D']);
    res.end('ignored');
  } else if (path === '/slow') {
    res.writeHead(200, ['content-length', '2', 'date', 'D']);
    setTimeout(() => res.end('ok'), 30);
  } else if (path === '/hang') {
    res.writeHead(200, ['content-length', '2', 'date', 'D']);
    res.flushHeaders();
  } else {
    res.writeHead(200, ['content-length', String(path.length), 'date', 'D', 'x-method', req.method, 'x-host', String(req.headers.host)]);
    res.end(path);
  }
}

before(async () => {
  const node = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('x-served-by', 'node');
      res.setHeader('date', 'D');
      res.end(`${req.method} ${req.url} ${body}`);
    });
  });
  // Half-open as the VIP listeners are: the connection decides when to close its side.
  server = net.createServer({ allowHalfOpen: true }, (socket) => {
    new H1Connection(socket, {
      handle: fastHandler,
      handoff: (s) => {
        node.emit('connection', s);
        s.resume();
      },
      maxHeadBytes: 4096,
      idleTimeoutMs: 10_000,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

after(() => server.close());

/** Sends `input` (optionally in pieces), reads until the server closes or `until` matches. */
function exchange(input: string | string[], until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(got)}`));
    }, 5_000);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(got);
    };
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (until.test(got)) done();
    });
    socket.on('close', done);
    socket.on('error', reject);
    const parts = Array.isArray(input) ? input : [input];
    let i = 0;
    const next = (): void => {
      if (i >= parts.length) return;
      socket.write(parts[i++] as string);
      setTimeout(next, 5);
    };
    next();
  });
}

const cases: ReadonlyArray<{ readonly name: string; readonly input: string | string[]; readonly until: RegExp; readonly expect: string }> = [
  {
    name: 'content-length response in one piece',
    input: 'GET /len HTTP/1.1\r\nhost: a\r\n\r\n', until: /hello$/,
    expect: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ndate: D\r\n\r\nhello',
  },
  {
    name: 'chunked when the head has no length and the body is written in parts; trailers after the last chunk',
    input: 'GET /chunked HTTP/1.1\r\nhost: a\r\n\r\n', until: /\r\n0\r\ngrpc-status: 0\r\n\r\n$/,
    expect: 'HTTP/1.1 200 OK\r\ndate: D\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\ngrpc-status: 0\r\n\r\n',
  },
  {
    name: 'content-length from end() when the whole body comes at once',
    input: 'GET /end-body HTTP/1.1\r\nhost: a\r\n\r\n', until: /xyz$/,
    expect: 'HTTP/1.1 201 Created\r\ndate: D\r\ncontent-length: 3\r\n\r\nxyz',
  },
  {
    name: 'no body on 204',
    input: 'GET /no-content HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n', until: /$^/,
    expect: 'HTTP/1.1 204 No Content\r\ndate: D\r\nconnection: close\r\n\r\n',
  },
  {
    name: 'no body on HEAD, length kept',
    input: 'HEAD /len HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n', until: /$^/,
    expect: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ndate: D\r\nconnection: close\r\n\r\n',
  },
  {
    name: 'a head split across reads',
    input: ['GET /sp', 'lit HTTP/1.1\r\nho', 'st: a\r\n', '\r\n'], until: /\/split$/,
    expect: 'HTTP/1.1 200 OK\r\ncontent-length: 6\r\ndate: D\r\nx-method: GET\r\nx-host: a\r\n\r\n/split',
  },
  {
    name: 'pipelined requests answered in order, the slow first one first',
    input: 'GET /slow HTTP/1.1\r\nhost: a\r\n\r\nGET /b HTTP/1.1\r\nhost: a\r\n\r\n', until: /\/b$/,
    expect: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ndate: D\r\n\r\nok'
      + 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ndate: D\r\nx-method: GET\r\nx-host: a\r\n\r\n/b',
  },
  {
    name: 'a request with a body after a fast one goes to node:http with its bytes intact',
    input: 'GET /a HTTP/1.1\r\nhost: a\r\n\r\nPOST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabc', until: /POST \/p abc$/,
    expect: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ndate: D\r\nx-method: GET\r\nx-host: a\r\n\r\n/a'
      + 'HTTP/1.1 200 OK\r\nx-served-by: node\r\ndate: D\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 11\r\n\r\nPOST /p abc',
  },
];

for (const c of cases) {
  test(c.name, async () => {
    assert.equal(await exchange(c.input, c.until), c.expect);
  });
}

test('a half-close abandons the request in flight, as node:http does: the response closes destroyed', async () => {
  events.length = 0;
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve()); // a reset is a close too
    socket.on('connect', () => socket.end('GET /slow HTTP/1.1\r\nhost: a\r\n\r\n'));
    setTimeout(() => reject(new Error('the connection stayed open')), 5_000);
  });
  for (let i = 0; i < 50 && !events.some((e) => e.startsWith('close /slow')); i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events.filter((e) => e.startsWith('close /slow')), ['close /slow finished=false destroyed=true']);
});

test('malformed input is node:http\'s to refuse (400)', async () => {
  const got = await exchange('GET / HTTP/1.1\r\nhost: a\r\nbad header\r\n\r\n', /$^/);
  assert.match(got, /^HTTP\/1\.1 400 Bad Request\r\n/);
});

test('a client that goes away mid-response closes the response as destroyed, not finished', async () => {
  events.length = 0;
  await exchange('GET /hang HTTP/1.1\r\nhost: a\r\n\r\n', /\r\n\r\n$/);
  for (let i = 0; i < 50 && !events.some((e) => e.startsWith('close /hang')); i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events.filter((e) => e.startsWith('close /hang')), ['close /hang finished=false destroyed=true']);
});

test('a completed response emits close after finishing (on a later tick)', async () => {
  events.length = 0;
  await exchange('GET /len HTTP/1.1\r\nhost: a\r\n\r\n', /hello$/);
  for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events, ['close /len finished=true destroyed=false']);
});
