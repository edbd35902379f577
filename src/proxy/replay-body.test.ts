import assert from 'node:assert/strict';
import { PassThrough, type Readable } from 'node:stream';
import { test } from 'node:test';
import { ReplayBody } from './replay-body.js';

async function drain(r: Readable): Promise<string> {
  let out = '';
  for await (const c of r) out += (c as Buffer).toString();
  return out;
}

test('each attempt gets the whole body: the buffered part, then the rest', async () => {
  const src = new PassThrough();
  const body = new ReplayBody(src, 1024);
  const first = body.attempt();
  assert.ok(first !== undefined);
  src.write('hello ');
  await new Promise((r) => setImmediate(r));
  first.destroy(); // the first attempt fails mid-upload
  const second = body.attempt();
  assert.ok(second !== undefined);
  src.end('world');
  assert.equal(await drain(second), 'hello world');
  const third = body.attempt();
  assert.ok(third !== undefined);
  assert.equal(await drain(third), 'hello world');
});

test('past the limit the body is no longer replayable, the current attempt still gets all of it', async () => {
  const src = new PassThrough();
  const body = new ReplayBody(src, 8);
  const first = body.attempt();
  assert.ok(first !== undefined);
  src.end('0123456789abcdef');
  assert.equal(await drain(first), '0123456789abcdef');
  assert.equal(body.replayable, false);
  assert.equal(body.attempt(), undefined);
});

test('release() ends replay once a response is committed', async () => {
  const src = new PassThrough();
  const body = new ReplayBody(src, 1024);
  const first = body.attempt();
  assert.ok(first !== undefined);
  body.release();
  src.end('abc');
  assert.equal(await drain(first), 'abc');
  assert.equal(body.attempt(), undefined);
});

test('a mirror tap gets a copy; one that does not read is dropped without holding the attempt back', async () => {
  const src = new PassThrough();
  const body = new ReplayBody(src, 0);
  const tap = body.tap();
  const lazy = body.tap();
  const first = body.attempt();
  assert.ok(tap !== undefined && lazy !== undefined && first !== undefined);
  const chunk = Buffer.alloc(256 * 1024, 'z');
  const copied = drain(tap);
  const primary = drain(first);
  for (let i = 0; i < 8; i++) src.write(chunk);
  src.end();
  assert.equal((await primary).length, 8 * chunk.length);
  assert.equal((await copied).length, 8 * chunk.length);
  assert.equal(lazy.destroyed, true, 'the tap nobody read was abandoned');
});
