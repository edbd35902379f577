import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpositionWriter } from '../../observability/exposition.js';
import { WasmMetricsRegistry } from './plugin-metrics.js';
import { SharedStore } from './shared-state.js';

const b = (s: string): Uint8Array => Buffer.from(s);

test('shared data: cas 0 sets unconditionally, a stale cas is refused, a fresh one wins', () => {
  const s = new SharedStore().scope('vm');
  assert.equal(s.set('k', b('1'), 0), 'ok');
  const first = s.get('k');
  assert.equal(s.set('k', b('2'), first?.cas ?? 0), 'ok');
  assert.equal(s.set('k', b('3'), first?.cas ?? 0), 'cas-mismatch');
  assert.equal(Buffer.from(s.get('k')?.value ?? []).toString(), '2');
  assert.equal(s.set('absent', b('x'), 99), 'cas-mismatch');
});

test('shared data and queues are scoped by VM id', () => {
  const store = new SharedStore();
  const a = store.scope('ns/a');
  const other = store.scope('ns/b');
  a.set('k', b('a'), 0);
  assert.equal(other.get('k'), undefined);
  const id = a.register('q', () => undefined);
  assert.equal(other.resolve('q'), undefined);
  assert.equal(other.enqueue(id, b('x')), 'not-found');
  assert.equal(store.scope('ns/a'), a);
});

test('queues: FIFO, empty is null, the registering VM is woken asynchronously', async () => {
  const s = new SharedStore().scope('vm');
  const woken: number[] = [];
  const id = s.register('events', (q) => woken.push(q));
  assert.equal(s.dequeue(id), null);
  s.enqueue(id, b('1'));
  s.enqueue(id, b('2'));
  assert.deepEqual(woken, []);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(woken, [id, id]);
  assert.equal(Buffer.from(s.dequeue(id) ?? []).toString(), '1');
  assert.equal(Buffer.from(s.dequeue(id) ?? []).toString(), '2');
  assert.equal(s.dequeue(id + 100), undefined);
});

test('metrics: counters only go up, gauges are set, histograms record; ids are private to their scope', () => {
  const reg = new WasmMetricsRegistry();
  const a = reg.scope('ns/a', 'ns/a');
  const other = reg.scope('ns/b', 'ns/b');
  const counter = a.define(0, 'reqs_total') ?? -1;
  const gauge = a.define(1, 'inflight') ?? -1;
  const hist = a.define(2, 'size') ?? -1;
  assert.equal(a.define(0, 'reqs_total'), counter, 'same name, same id');
  assert.equal(a.define(1, 'reqs_total'), undefined, 'type clash');
  assert.equal(a.increment(counter, 2), 'ok');
  assert.equal(a.increment(counter, -1), 'bad-argument');
  assert.equal(a.increment(gauge, -3), 'ok');
  assert.equal(a.record(hist, 7), 'ok');
  assert.equal(a.get(counter), 2);
  assert.equal(a.get(gauge), -3);
  assert.equal(other.get(counter), undefined);
  assert.equal(other.increment(counter, 1), 'not-found');
  const w = new ExpositionWriter('prometheus');
  reg.collect(w);
  const text = w.finish();
  assert.match(text, /# TYPE reqs_total counter\nreqs_total\{wasm_plugin="ns\/a"\} 2\n/);
  assert.match(text, /inflight\{wasm_plugin="ns\/a"\} -3\n/);
  assert.match(text, /size_bucket\{wasm_plugin="ns\/a",le="5"\} 0\nsize_bucket\{wasm_plugin="ns\/a",le="10"\} 1\n/);
  assert.match(text, /size_sum\{wasm_plugin="ns\/a"\} 7\nsize_count\{wasm_plugin="ns\/a"\} 1\n/);
});
