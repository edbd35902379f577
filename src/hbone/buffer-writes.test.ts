import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { buffersOnly } from './buffer-writes.js';

// What node:http does when it sends a request with a body over a tunnel stream: cork, a utf8 string, an
// empty latin1 string, uncork. Without the workaround the first bytes arrive corrupted (Node 20).
test('corked string writes to an HTTP/2 stream arrive intact', async () => {
  const server = http2.createServer();
  const received = new Promise<string>((resolve) => {
    server.on('stream', (st) => {
      st.respond({ ':status': 200 });
      st.pause();
      setTimeout(() => {
        let all = '';
        st.on('data', (c: Buffer) => (all += c.toString('latin1')));
        st.on('end', () => {
          st.end();
          resolve(all);
        });
        st.resume();
      }, 50);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const st = client.request({ ':method': 'CONNECT', ':authority': '10.0.0.1:80' });
  buffersOnly(st);
  const text = 'POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello';
  st.once('response', () => {
    st.cork();
    st.write(text, 'utf8');
    st.write('', 'latin1');
    st.uncork();
    setTimeout(() => st.end(), 20);
  });
  assert.equal(await received, text);
  client.destroy();
  await new Promise((r) => server.close(r));
});
