import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestHead } from './request-head.js';

const LIMIT = 1024;
const parse = (s: string, limit = LIMIT): ReturnType<typeof parseRequestHead> => parseRequestHead(Buffer.from(s, 'latin1'), limit);

const handoffs: ReadonlyArray<{ readonly name: string; readonly head: string }> = [
  { name: 'HTTP/1.0', head: 'GET / HTTP/1.0\r\nhost: a\r\n\r\n' },
  { name: 'HTTP/2 preface-like version', head: 'GET / HTTP/2.0\r\nhost: a\r\n\r\n' },
  { name: 'a body by content-length', head: 'POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello' },
  { name: 'two content-length fields', head: 'GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\ncontent-length: 0\r\n\r\n' },
  { name: 'transfer-encoding', head: 'POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n' },
  { name: 'upgrade', head: 'GET / HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n' },
  { name: 'connection: upgrade alone', head: 'GET / HTTP/1.1\r\nhost: a\r\nconnection: Upgrade\r\n\r\n' },
  { name: 'expect', head: 'PUT / HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\n\r\n' },
  { name: 'gRPC content type', head: 'GET / HTTP/1.1\r\nhost: a\r\ncontent-type: application/grpc\r\n\r\n' },
  { name: 'no Host', head: 'GET / HTTP/1.1\r\naccept: */*\r\n\r\n' },
  { name: 'two Host fields', head: 'GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n' },
  { name: 'an unknown method', head: 'BREW / HTTP/1.1\r\nhost: a\r\n\r\n' },
  { name: 'lower-case method', head: 'get / HTTP/1.1\r\nhost: a\r\n\r\n' },
  { name: 'a space in the target', head: 'GET /a b HTTP/1.1\r\nhost: a\r\n\r\n' },
  { name: 'a control byte in the target', head: 'GET /a\x01 HTTP/1.1\r\nhost: a\r\n\r\n' },
  { name: 'a non-ASCII byte in the target', head: 'GET /\xe9 HTTP/1.1\r\nhost: a\r\n\r\n' },
  { name: 'extra text after the version', head: 'GET / HTTP/1.1 x\r\nhost: a\r\n\r\n' },
  { name: 'obs-fold continuation line', head: 'GET / HTTP/1.1\r\nhost: a\r\nx-a: 1\r\n 2\r\n\r\n' },
  { name: 'space before the colon', head: 'GET / HTTP/1.1\r\nhost: a\r\nx-a : 1\r\n\r\n' },
  { name: 'a line without a colon', head: 'GET / HTTP/1.1\r\nhost: a\r\nbogus\r\n\r\n' },
  { name: 'an empty field name', head: 'GET / HTTP/1.1\r\nhost: a\r\n: v\r\n\r\n' },
  { name: 'a bare LF inside a value', head: 'GET / HTTP/1.1\r\nhost: a\r\nx-a: 1\nx-b: 2\r\n\r\n' },
  { name: 'a bare CR inside a value', head: 'GET / HTTP/1.1\r\nhost: a\r\nx-a: 1\rx-b: 2\r\n\r\n' },
  { name: 'a NUL inside a value', head: 'GET / HTTP/1.1\r\nhost: a\r\nx-a: 1\x002\r\n\r\n' },
  { name: 'a non-token byte in a name', head: 'GET / HTTP/1.1\r\nhost: a\r\nx(a): 1\r\n\r\n' },
  { name: 'a __proto__ field', head: 'GET / HTTP/1.1\r\nhost: a\r\n__proto__: 1\r\n\r\n' },
];

for (const c of handoffs) {
  test(`hands off ${c.name}`, () => {
    assert.deepEqual(parse(c.head), { kind: 'handoff' });
  });
}

test('needs more bytes until the blank line, and hands off a head over the limit', () => {
  assert.deepEqual(parse('GET / HTTP/1.1\r\nhost: a\r\n'), { kind: 'need-more' });
  assert.deepEqual(parse(`GET / HTTP/1.1\r\nhost: a\r\nx: ${'a'.repeat(200)}`, 100), { kind: 'handoff' });
  assert.deepEqual(parse(`GET / HTTP/1.1\r\nhost: a\r\nx: ${'a'.repeat(200)}\r\n\r\n`, 100), { kind: 'handoff' });
});

test('parses a plain request: raw fields kept, node:http merge rules for the object', () => {
  const head = 'GET /p?q=1 HTTP/1.1\r\nHost: svc:80\r\nX-A:  one \r\nx-a: two\r\nCookie: a=1\r\ncookie: b=2\r\n'
    + 'User-Agent: first\r\nuser-agent: second\r\nSet-Cookie: s=1\r\nset-cookie: s=2\r\ncontent-length: 0\r\nx-obs: caf\xe9\r\n\r\nNEXT';
  const r = parse(head);
  assert.equal(r.kind, 'request');
  if (r.kind !== 'request') return;
  assert.equal(r.method, 'GET');
  assert.equal(r.target, '/p?q=1');
  assert.equal(r.keepAlive, true);
  assert.equal(r.length, head.length - 'NEXT'.length);
  assert.deepEqual(r.rawHeaders.slice(0, 6), ['Host', 'svc:80', 'X-A', 'one', 'x-a', 'two']);
  assert.equal(r.headers['host'], 'svc:80');
  assert.equal(r.headers['x-a'], 'one, two');
  assert.equal(r.headers['cookie'], 'a=1; b=2');
  assert.equal(r.headers['user-agent'], 'first');
  assert.deepEqual(r.headers['set-cookie'], ['s=1', 's=2']);
  assert.equal(r.headers['x-obs'], 'caf\u00e9');
});

const keepAliveCases: ReadonlyArray<{ readonly connection: string; readonly keepAlive: boolean }> = [
  { connection: 'close', keepAlive: false },
  { connection: 'Close', keepAlive: false },
  { connection: 'keep-alive, close', keepAlive: false },
  { connection: 'keep-alive', keepAlive: true },
  { connection: 'closed', keepAlive: true },
];

for (const c of keepAliveCases) {
  test(`Connection: ${c.connection} → keep-alive ${c.keepAlive}`, () => {
    const r = parse(`GET / HTTP/1.1\r\nhost: a\r\nconnection: ${c.connection}\r\n\r\n`);
    assert.equal(r.kind === 'request' && r.keepAlive, c.keepAlive);
  });
}
