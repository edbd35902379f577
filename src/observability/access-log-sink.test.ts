import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AccessLogSink } from './access-log-sink.js';

test('lines are batched, appended in order and flushed on close', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sink-'));
  const file = path.join(dir, 'a.log');
  const sink = new AccessLogSink(file, () => assert.fail('no error expected'));
  for (let i = 0; i < 5000; i++) sink.write(`line ${i}\n`);
  await sink.close();
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 5000);
  assert.equal(lines[4999], 'line 4999');
  assert.equal(sink.written, 5000);
  assert.equal(sink.dropped, 0);
  await rm(dir, { recursive: true, force: true });
});

test('a file that cannot be opened reports once and drops (and counts) its lines', async () => {
  const errors: string[] = [];
  const sink = new AccessLogSink(path.join(os.tmpdir(), 'no-such-dir-waypoint', 'x', 'a.log'), (err) => errors.push(err.message));
  sink.write('first\n');
  for (let i = 0; i < 500 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  sink.write('second\n');
  sink.write('third\n');
  await sink.close();
  assert.equal(errors.length, 1);
  assert.ok(sink.dropped >= 2);
});
