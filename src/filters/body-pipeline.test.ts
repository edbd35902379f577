import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalReply } from '../errors/local-reply.js';
import type { HttpExchange } from '../proxy/http-exchange.js';
import type { BodyBuffer } from './body-buffer.js';
import { BodyPipeline, bodyStages } from './body-pipeline.js';
import type { BodyOutcome, BodyResume, HttpFilter } from './types.js';

const ex = {} as HttpExchange;
const DENY: LocalReply = { status: 400, body: 'no', flag: undefined, details: 'denied' };

/** A filter whose body phase follows `decide`, recording what it saw; `resume` is kept for the test. */
function stage(name: string, decide: (body: BodyBuffer, eos: boolean) => BodyOutcome, seen: string[], resumes: BodyResume[] = []): HttpFilter {
  return {
    name,
    onRequestBody: (_ex, body, eos, resume) => {
      seen.push(`${name}:${body.bytes().toString()}${eos ? '$' : ''}`);
      resumes.push(resume);
      return decide(body, eos);
    },
  };
}

function run(filters: HttpFilter[], chunks: string[], limit = 1024): { out: string; ended: boolean; failed: LocalReply | 'overflow' | undefined; pipeline: BodyPipeline } {
  const r = { out: '', ended: false, failed: undefined as LocalReply | 'overflow' | undefined, pipeline: undefined as unknown as BodyPipeline };
  r.pipeline = new BodyPipeline(ex, filters, 'request', { data: (c) => (r.out += c.toString()), end: () => (r.ended = true), fail: (f) => (r.failed = f) }, limit);
  for (const c of chunks) r.pipeline.push(Buffer.from(c));
  r.pipeline.end();
  return r;
}

test('continue passes each chunk through; end of stream reaches every stage', () => {
  const seen: string[] = [];
  const r = run([stage('a', () => 'continue', seen), stage('b', () => 'continue', seen)], ['x', 'y']);
  assert.equal(r.out, 'xy');
  assert.equal(r.ended, true);
  assert.deepEqual(seen, ['a:x', 'b:x', 'a:y', 'b:y', 'a:$', 'b:$']);
});

test('hold buffers until end of stream, the stage sees the whole body each time and may rewrite it', () => {
  const seen: string[] = [];
  const upper = stage('up', (body, eos) => {
    if (!eos) return 'hold';
    body.replace(0, body.length, Buffer.from(body.bytes().toString().toUpperCase()));
    return 'continue';
  }, seen);
  const r = run([upper, stage('next', () => 'continue', seen)], ['ab', 'cd']);
  assert.equal(r.out, 'ABCD');
  assert.deepEqual(seen, ['up:ab', 'up:abcd', 'up:abcd$', 'next:ABCD$']);
});

test('resume releases a held body later (proxy_continue_stream)', () => {
  const seen: string[] = [];
  const resumes: BodyResume[] = [];
  const r = run([stage('hold', () => 'hold', seen, resumes)], ['p', 'q']);
  assert.equal(r.out, '');
  assert.equal(r.ended, false);
  resumes[0]?.();
  assert.equal(r.out, 'pq');
  assert.equal(r.ended, true);
});

test('a local reply stops the pipeline; later chunks are dropped', () => {
  const seen: string[] = [];
  const r = run([stage('deny', (b) => (b.bytes().toString() === 'b' ? DENY : 'continue'), seen)], ['a', 'b', 'c']);
  assert.equal(r.failed, DENY);
  assert.equal(r.out, 'a');
  assert.deepEqual(seen, ['deny:a', 'deny:b']);
});

test('held data past the limit fails with overflow', () => {
  const r = run([stage('hold', () => 'hold', [])], ['12345', '67890'], 8);
  assert.equal(r.failed, 'overflow');
});

test('set_buffer_bytes semantics: prepend, append, replace', () => {
  const seen: string[] = [];
  const edit = stage('edit', (body, eos) => {
    if (!eos) return 'hold';
    body.replace(0, 0, Buffer.from('<'));
    body.replace(body.length, 0, Buffer.from('>'));
    body.replace(1, 3, Buffer.from('X'));
    return 'continue';
  }, seen);
  assert.equal(run([edit], ['abc', 'def']).out, '<Xdef>');
});

test('bodyStages keeps only filters with the phase, reversed for responses, memoized per chain', () => {
  const a: HttpFilter = { name: 'a', onRequestBody: () => 'continue', onResponseBody: () => 'continue' };
  const b: HttpFilter = { name: 'b' };
  const c: HttpFilter = { name: 'c', onResponseBody: () => 'continue' };
  const chain = Object.freeze([a, b, c]);
  assert.deepEqual(bodyStages(chain, 'request').map((f) => f.name), ['a']);
  assert.deepEqual(bodyStages(chain, 'response').map((f) => f.name), ['c', 'a']);
  assert.equal(bodyStages(chain, 'response'), bodyStages(chain, 'response'));
  assert.equal(bodyStages(Object.freeze([b]), 'request').length, 0);
});
