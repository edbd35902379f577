// ClientHelloReader: real ClientHellos from node:tls, the same bytes fragmented per byte and re-split
// into many TLS records, and malformed, hostile and non-TLS input.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { ClientHelloReader, type ClientHelloResult, MAX_CLIENT_HELLO_BYTES } from './client-hello.js';

/** The first flight node:tls sends, captured by a plain TCP server. */
async function realHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const captured = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      let buf: Buffer = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          resolve(buf);
          s.destroy();
        }
      });
    });
  });
  const client = tls.connect({ host: '127.0.0.1', port, ...options });
  client.on('error', () => undefined);
  const hello = await captured;
  client.destroy();
  server.close();
  return hello;
}

/** A ClientHello body built by hand, so each field can be broken on purpose. */
function helloBody(extensions: ReadonlyArray<Buffer> | undefined, sessionId = 32): Buffer {
  const parts: Buffer[] = [Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([sessionId]), Buffer.alloc(sessionId, 1), Buffer.from([0, 2, 0x13, 0x01]), Buffer.from([1, 0])];
  if (extensions !== undefined) {
    const ext = Buffer.concat(extensions);
    parts.push(u16(ext.length), ext);
  }
  return Buffer.concat(parts);
}
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const ext = (type: number, data: Buffer): Buffer => Buffer.concat([u16(type), u16(data.length), data]);
function sniExt(...names: string[]): Buffer {
  const list = Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([0]), u16(n.length), Buffer.from(n, 'latin1')])));
  return ext(0, Buffer.concat([u16(list.length), list]));
}
function alpnExt(...protos: string[]): Buffer {
  const list = Buffer.concat(protos.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])));
  return ext(16, Buffer.concat([u16(list.length), list]));
}
/** Handshake message (type 1 by default) in TLS records of at most `recordSize` bytes each. */
function records(body: Buffer, recordSize = 16384, handshakeType = 1): Buffer {
  const hs = Buffer.concat([Buffer.from([handshakeType, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  const out: Buffer[] = [];
  for (let i = 0; i < hs.length; i += recordSize) {
    const frag = hs.subarray(i, i + recordSize);
    out.push(Buffer.from([22, 3, 1]), u16(frag.length), frag);
  }
  return Buffer.concat(out);
}
/** Re-splits the handshake carried by real records into records of `size` bytes. */
function resplit(wire: Buffer, size: number): Buffer {
  const length = wire.readUInt16BE(3);
  const hs = wire.subarray(5, 5 + length);
  return records(hs.subarray(4), size, hs[0]);
}
function pushAll(data: Buffer, chunk: number): { result: ClientHelloResult; needMoreBefore: boolean } {
  const reader = new ClientHelloReader();
  let needMoreBefore = true;
  let result: ClientHelloResult = { kind: 'need-more' };
  for (let i = 0; i < data.length; i += chunk) {
    result = reader.push(data.subarray(i, i + chunk));
    if (result.kind !== 'need-more' && i + chunk < data.length) needMoreBefore = false;
  }
  return { result, needMoreBefore };
}

const real = await realHello({ servername: 'Api.Example.COM', ALPNProtocols: ['h2', 'http/1.1'] });
const realNoSni = await realHello({ servername: '' });

interface HelloCase {
  readonly name: string;
  readonly input: Buffer;
  readonly chunk?: number;
  readonly want: ClientHelloResult;
}

const cases: HelloCase[] = [
  { name: 'real node:tls ClientHello: SNI lower-cased, ALPN listed', input: real, want: { kind: 'hello', sni: 'api.example.com', alpn: ['h2', 'http/1.1'] } },
  { name: 'the same, one byte per chunk', input: real, chunk: 1, want: { kind: 'hello', sni: 'api.example.com', alpn: ['h2', 'http/1.1'] } },
  { name: 'the same, re-split into 40-byte TLS records and 7-byte chunks', input: resplit(real, 40), chunk: 7, want: { kind: 'hello', sni: 'api.example.com', alpn: ['h2', 'http/1.1'] } },
  { name: 'the same, re-split into 1-byte TLS records', input: resplit(real, 1), chunk: 64, want: { kind: 'hello', sni: 'api.example.com', alpn: ['h2', 'http/1.1'] } },
  { name: 'real ClientHello without SNI', input: realNoSni, want: { kind: 'hello', sni: undefined, alpn: [] } },
  { name: 'TLS 1.2 style ClientHello with no extensions at all', input: records(helloBody(undefined)), want: { kind: 'hello', sni: undefined, alpn: [] } },
  { name: 'first host_name wins', input: records(helloBody([sniExt('a.example.com', 'b.example.com')])), want: { kind: 'hello', sni: 'a.example.com', alpn: [] } },
  { name: 'plaintext HTTP is refused on the first byte', input: Buffer.from('GET / HTTP/1.1\r\n\r\n'), chunk: 1, want: { kind: 'not-tls' } },
  { name: 'a TLS-looking first byte with a non-TLS version byte is not TLS', input: Buffer.from([22, 9, 9, 9, 9, 9]), want: { kind: 'not-tls' } },
  { name: 'zero-length handshake record', input: Buffer.from([22, 3, 1, 0, 0]), want: { kind: 'invalid', reason: 'zero-length handshake record' } },
  { name: 'record longer than 2^14', input: Buffer.from([22, 3, 1, 0x40, 0x01]), want: { kind: 'invalid', reason: 'record longer than 2^14 bytes' } },
  { name: 'ServerHello instead of ClientHello', input: records(helloBody([]), 16384, 2), want: { kind: 'invalid', reason: 'first handshake message is not a ClientHello' } },
  { name: 'handshake announcing more than 64 KiB is refused before it arrives', input: Buffer.from([22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x00]), want: { kind: 'too-large' } },
  { name: 'session id longer than 32 bytes', input: records(helloBody([], 33)), want: { kind: 'invalid', reason: 'session id longer than 32 bytes' } },
  { name: 'truncated body', input: records(Buffer.from([3, 3, 0, 0, 0])), want: { kind: 'invalid', reason: 'truncated ClientHello' } },
  { name: 'extensions length beyond the body', input: records(Buffer.concat([helloBody(undefined), u16(50), Buffer.alloc(10)])), want: { kind: 'invalid', reason: 'extensions length does not match the ClientHello length' } },
  { name: 'duplicate extension', input: records(helloBody([sniExt('a.example.com'), sniExt('b.example.com')])), want: { kind: 'invalid', reason: 'duplicate extension 0' } },
  { name: 'server_name with a space', input: records(helloBody([sniExt('a b.example.com')])), want: { kind: 'invalid', reason: 'server_name is not a valid host name' } },
  { name: 'empty ALPN protocol name', input: records(helloBody([alpnExt('')])), want: { kind: 'invalid', reason: 'malformed ALPN extension' } },
  { name: 'application data record before the ClientHello is complete', input: Buffer.concat([records(helloBody([sniExt('a.example.com')]), 20).subarray(0, 25), Buffer.from([23, 3, 3, 0, 1, 0])]), want: { kind: 'invalid', reason: 'record is not a handshake record before the ClientHello completed' } },
];

for (const c of cases) {
  test(`ClientHello: ${c.name}`, () => {
    const { result, needMoreBefore } = pushAll(c.input, c.chunk ?? c.input.length);
    assert.deepEqual(result, c.want);
    if (c.want.kind === 'hello') assert.ok(needMoreBefore, 'no answer before the last byte of the hello');
  });
}

test('ClientHello: every pushed byte is kept for replay, and the answer is final', () => {
  const reader = new ClientHelloReader();
  const extra = Buffer.from([20, 3, 3, 0, 1, 1]); // ChangeCipherSpec in the same chunk
  const first = reader.push(real.subarray(0, 10));
  assert.equal(first.kind, 'need-more');
  const done = reader.push(Buffer.concat([real.subarray(10), extra]));
  assert.equal(done.kind, 'hello');
  assert.deepEqual(reader.buffered, Buffer.concat([real, extra]));
  assert.equal(reader.push(Buffer.from('more')), done);
});

test('ClientHello: a hello dribbled in 1-byte records stops at the 64 KiB buffer cap', () => {
  const reader = new ClientHelloReader();
  // Announce a 60000-byte ClientHello, then send it one byte per 5-byte-header record: 6 bytes per hello byte.
  const header = Buffer.from([1, 0, 0xea, 0x60]);
  let result: ClientHelloResult = { kind: 'need-more' };
  let sent = 0;
  for (let i = 0; i < 60_004 && result.kind === 'need-more'; i++) {
    const b = i < 4 ? (header[i] as number) : 0;
    result = reader.push(Buffer.from([22, 3, 1, 0, 1, b]));
    sent += 6;
  }
  assert.equal(result.kind, 'too-large');
  assert.ok(sent <= MAX_CLIENT_HELLO_BYTES + 6, `stopped after ${sent} bytes`);
  assert.ok(reader.buffered.length <= MAX_CLIENT_HELLO_BYTES);
});

test('ClientHello: random garbage never throws and never answers hello', () => {
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let n = 0; n < 2000; n++) {
    const len = 1 + Math.floor(rand() * 300);
    const buf = Buffer.alloc(len);
    for (let i = 0; i < len; i++) buf[i] = Math.floor(rand() * 256);
    // Half of them look like a handshake record so the parser goes deeper.
    if (n % 2 === 0 && len > 5) {
      buf[0] = 22;
      buf[1] = 3;
      buf.writeUInt16BE(len - 5, 3);
      buf[5] = 1;
    }
    const r = new ClientHelloReader().push(buf);
    assert.notEqual(r.kind, 'hello', `input ${buf.toString('hex')}`);
  }
});
