import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type H1Headers, H1ResponseParser, type H1ResponseSink } from './h1-response-parser.js';

interface Parsed {
  heads: Array<{ status: number; text: string; headers: H1Headers }>;
  body: string;
  trailers: H1Headers | undefined;
  keepAlive: boolean;
  rest: string;
}

/** Feeds `wire` cut at `cuts` (offsets), collecting what the sink sees. */
function parse(wire: string, cuts: number[], noBody = false, upgrade = false, finish = false): Parsed {
  const out: Parsed = { heads: [], body: '', trailers: undefined, keepAlive: false, rest: '' };
  const sink: H1ResponseSink = {
    onHead: (status, text, headers) => void out.heads.push({ status, text, headers }),
    onBody: (chunk) => {
      out.body += chunk.toString('latin1');
      return true;
    },
    onEnd: (trailers) => void (out.trailers = trailers),
  };
  const parser = new H1ResponseParser(sink);
  parser.reset(noBody, upgrade);
  const bytes = Buffer.from(wire, 'latin1');
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    const rest = parser.execute(bytes.subarray(at, cut));
    if (rest !== undefined) out.rest += rest.toString('latin1');
    at = cut;
  }
  if (finish) parser.finish();
  out.keepAlive = parser.keepAlive;
  return out;
}

interface Case {
  readonly name: string;
  readonly wire: string;
  readonly noBody?: boolean;
  readonly upgrade?: boolean;
  /** The connection closes after the bytes (close-delimited bodies end there). */
  readonly finish?: boolean;
  readonly status: number;
  readonly headers?: H1Headers;
  readonly body: string;
  readonly trailers?: H1Headers | undefined;
  readonly keepAlive: boolean;
  readonly rest?: string;
}

const cases: Case[] = [
  {
    name: 'Content-Length body, keep-alive',
    wire: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
    status: 200, headers: { 'content-type': 'text/plain', 'content-length': '5' }, body: 'hello', trailers: {}, keepAlive: true,
  },
  {
    name: 'chunked with extensions and trailers',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n5;name=val\r\nhello\r\n1 ; ext\r\n!\r\n0\r\nX-Sum: 42\r\nx-other:  a b \r\n\r\n',
    status: 200, body: 'hello!', trailers: { 'x-sum': '42', 'x-other': 'a b' }, keepAlive: true,
  },
  {
    name: 'chunked without trailers, upper-case hex sizes',
    wire: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n',
    status: 200, body: '0123456789', trailers: {}, keepAlive: true,
  },
  {
    name: 'close-delimited body ends with the connection',
    wire: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', finish: true,
    status: 200, body: 'until the end', trailers: {}, keepAlive: false,
  },
  {
    name: '304 with Content-Length has no body',
    wire: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: "x"\r\n\r\n',
    status: 304, body: '', trailers: {}, keepAlive: true,
  },
  {
    name: '204 has no body',
    wire: 'HTTP/1.1 204 No Content\r\n\r\n',
    status: 204, body: '', trailers: {}, keepAlive: true,
  },
  {
    name: 'HEAD response with Content-Length has no body',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n', noBody: true,
    status: 200, body: '', trailers: {}, keepAlive: true,
  },
  {
    name: '1xx responses are skipped',
    wire: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
    status: 201, body: 'ok', trailers: {}, keepAlive: true,
  },
  {
    name: 'Connection: close is not reused',
    wire: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok',
    status: 200, body: 'ok', trailers: {}, keepAlive: false,
  },
  {
    name: 'HTTP/1.0 without keep-alive is not reused; with it, it is',
    wire: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
    status: 200, body: 'ok', trailers: {}, keepAlive: false,
  },
  {
    name: 'HTTP/1.0 with Connection: keep-alive',
    wire: 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok',
    status: 200, body: 'ok', trailers: {}, keepAlive: true,
  },
  {
    name: 'repeated fields become arrays; empty reason phrase; bare LF line ends',
    wire: 'HTTP/1.1 200 \nSet-Cookie: a=1\nset-cookie: b=2\nContent-Length: 0\n\n',
    status: 200, headers: { 'set-cookie': ['a=1', 'b=2'], 'content-length': '0' }, body: '', trailers: {}, keepAlive: true,
  },
  {
    name: '101 to an upgrade request stops parsing; the rest belongs to the new protocol',
    wire: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi', upgrade: true,
    status: 101, body: '', trailers: undefined, keepAlive: false, rest: '\x81\x02hi',
  },
  {
    name: 'bytes after a complete response are handed back',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA',
    status: 200, body: 'ok', trailers: {}, keepAlive: true, rest: 'EXTRA',
  },
  {
    name: 'Transfer-Encoding and Content-Length: chunked wins, connection not reused',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    status: 200, body: 'ok', trailers: {}, keepAlive: false,
  },
];

for (const c of cases) {
  test(`parser: ${c.name}, at every split point`, () => {
    const whole = parse(c.wire, [], c.noBody, c.upgrade, c.finish);
    for (let cut = 0; cut <= c.wire.length; cut++) {
      const got = cut === 0 ? whole : parse(c.wire, [cut], c.noBody, c.upgrade, c.finish);
      const at = `split at ${cut}`;
      assert.equal(got.heads.length, 1, at);
      assert.equal(got.heads[0]?.status, c.status, at);
      if (c.headers !== undefined) assert.deepEqual({ ...got.heads[0]?.headers }, c.headers, at);
      assert.equal(got.body, c.body, at);
      assert.deepEqual(got.trailers === undefined ? undefined : { ...got.trailers }, c.trailers, at);
      assert.equal(got.keepAlive, c.keepAlive, at);
      assert.equal(got.rest, c.rest ?? '', at);
    }
    // One byte at a time.
    const bytes = parse(c.wire, Array.from({ length: c.wire.length }, (_, i) => i), c.noBody, c.upgrade, c.finish);
    assert.equal(bytes.body, c.body);
    assert.equal(bytes.rest, c.rest ?? '');
  });
}

const malformed: Array<{ name: string; wire: string; code: string }> = [
  { name: 'not HTTP', wire: 'SSH-2.0-OpenSSH\r\n\r\n', code: 'HPE_INVALID_CONSTANT' },
  { name: 'bad status code', wire: 'HTTP/1.1 2x0 OK\r\n\r\n', code: 'HPE_INVALID_STATUS' },
  { name: 'conflicting Content-Length', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', code: 'HPE_UNEXPECTED_CONTENT_LENGTH' },
  { name: 'negative Content-Length', wire: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', code: 'HPE_UNEXPECTED_CONTENT_LENGTH' },
  { name: 'bad chunk size', wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', code: 'HPE_INVALID_CHUNK_SIZE' },
  { name: 'whitespace before colon', wire: 'HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n', code: 'HPE_INVALID_HEADER_TOKEN' },
  { name: 'obs-fold', wire: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\n\r\n', code: 'HPE_INVALID_HEADER_TOKEN' },
  { name: '101 without an upgrade request', wire: 'HTTP/1.1 101 Switching Protocols\r\n\r\n', code: 'HPE_INVALID_STATUS' },
  { name: 'head over 60 KiB', wire: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(61 * 1024)}\r\n\r\n`, code: 'UND_ERR_HEADERS_OVERFLOW' },
];

for (const c of malformed) {
  test(`parser rejects: ${c.name}`, () => {
    assert.throws(() => parse(c.wire, []), (err: Error & { code?: string }) => err.code === c.code);
  });
}

test('parser: a sink that asks to stop gets the rest back, and parsing resumes from it', () => {
  const chunks: string[] = [];
  let ended = false;
  const parser = new H1ResponseParser({
    onHead: () => undefined,
    onBody: (chunk) => {
      chunks.push(chunk.toString());
      return false;
    },
    onEnd: () => void (ended = true),
  });
  parser.reset(false, false);
  const rest = parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n'));
  assert.deepEqual(chunks, ['abc']);
  assert.ok(rest !== undefined);
  const rest2 = parser.execute(rest);
  assert.deepEqual(chunks, ['abc', 'def']);
  assert.equal(ended, false);
  assert.ok(rest2 !== undefined);
  assert.equal(parser.execute(rest2), undefined);
  assert.equal(ended, true);
});

test('parser: a response cut short before its end is not complete', () => {
  const parser = new H1ResponseParser({ onHead: () => undefined, onBody: () => true, onEnd: () => assert.fail('no end') });
  parser.reset(false, false);
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  assert.equal(parser.finish(), false);
});

test('parser: Keep-Alive timeout hint is read', () => {
  const parser = new H1ResponseParser({ onHead: () => undefined, onBody: () => true, onEnd: () => undefined });
  parser.reset(false, false);
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n'));
  assert.equal(parser.keepAliveTimeoutMs, 5000);
});
