import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { DecisionTrace } from './decision-trace.js';
import { matches, TapHub } from './tap-hub.js';

function trace(service: string, path: string, status: number): DecisionTrace {
  return {
    id: 1, time: 't', request: { method: 'GET', authority: 'a', path, headers: {} }, source: { address: '127.0.0.1', principal: undefined },
    listener: 'l', service, port: { name: 'http', port: 80, protocol: 'http' }, route: undefined, backend: { cluster: undefined, endpoint: undefined, attempts: 0 },
    authorization: [], extAuthz: [], jwt: undefined, response: { status, flags: '-', details: 'via_upstream', grpcStatus: undefined }, timings: { totalMs: 1, upstreamMs: undefined },
  };
}

const cases: ReadonlyArray<{ name: string; filter: Parameters<typeof matches>[0]; t: DecisionTrace; want: boolean }> = [
  { name: 'no filter', filter: {}, t: trace('ns/web', '/', 200), want: true },
  { name: 'service by name', filter: { service: 'web' }, t: trace('ns/web', '/', 200), want: true },
  { name: 'service by key', filter: { service: 'ns/web' }, t: trace('ns/web', '/', 200), want: true },
  { name: 'other service', filter: { service: 'api' }, t: trace('ns/web', '/', 200), want: false },
  { name: 'path prefix', filter: { path: '/v1' }, t: trace('ns/web', '/v1/x?q=1', 200), want: true },
  { name: 'path prefix ignores query', filter: { path: '/v1/x?q' }, t: trace('ns/web', '/v1/x?q=1', 200), want: false },
  { name: 'status class', filter: { status: '5xx' }, t: trace('ns/web', '/', 503), want: true },
  { name: 'status class miss', filter: { status: '5xx' }, t: trace('ns/web', '/', 404), want: false },
  { name: 'exact status', filter: { status: '404' }, t: trace('ns/web', '/', 404), want: true },
];

for (const c of cases) test(`tap filter: ${c.name}`, () => assert.equal(matches(c.filter, c.t), c.want));

/** A client that never reads: writes pile up in its buffer. */
function stalled(): Writable {
  return new Writable({ highWaterMark: 1024, write: () => undefined });
}

test('a slow subscriber gets lines dropped and counted, and its buffer stays bounded', () => {
  const hub = new TapHub(4096);
  const slow = stalled();
  const lines: string[] = [];
  const fast = new Writable({ write: (chunk: Buffer, _e, cb) => { lines.push(chunk.toString()); cb(); } });
  hub.subscribe(slow, {});
  hub.subscribe(fast, {});
  for (let i = 0; i < 1000; i++) hub.publish(trace('ns/web', '/', 200));
  assert.ok(hub.droppedTotal > 900, `dropped ${hub.droppedTotal}`);
  assert.ok(slow.writableLength < 4096 + 2048, `buffered ${slow.writableLength}`);
  assert.equal(lines.length, 1000, 'the fast subscriber lost nothing');
});

test('the drop count is reported once the subscriber catches up', () => {
  const hub = new TapHub(100);
  let pending: (() => void) | undefined;
  const out: string[] = [];
  const w = new Writable({ highWaterMark: 16, write: (chunk: Buffer, _e, cb) => { out.push(chunk.toString()); pending = cb; } });
  hub.subscribe(w, {});
  for (let i = 0; i < 5; i++) hub.publish(trace('ns/web', '/', 200));
  // Drain everything queued: the buffer empties and the next publish reports the drops first.
  while (pending !== undefined) {
    const p = pending;
    pending = undefined;
    p();
  }
  hub.publish(trace('ns/web', '/', 200));
  const dropped = out.find((l) => l.startsWith('{"dropped"'));
  assert.ok(dropped !== undefined, out.join(''));
  assert.ok(hub.droppedTotal > 0);
});

test('unsubscribes when the client goes away', () => {
  const hub = new TapHub();
  const w = stalled();
  hub.subscribe(w, {});
  assert.equal(hub.active, true);
  w.destroy();
  return new Promise<void>((resolve) => setImmediate(() => {
    assert.equal(hub.active, false);
    resolve();
  }));
});
