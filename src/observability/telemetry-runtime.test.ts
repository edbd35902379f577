import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpExchange } from '../proxy/http-exchange.js';
import { ExpositionWriter } from './exposition.js';
import { createLogger } from './logger.js';
import { TelemetryRuntime } from './telemetry-runtime.js';

test('a failure inside telemetry never reaches the request: it is counted and logged once', async () => {
  const lines: string[] = [];
  const runtime = new TelemetryRuntime({ log: createLogger('text', (l) => lines.push(l), 'error'), buildTag: 't' });
  const broken = { get snapshot(): never { throw new Error('boom'); } } as unknown as HttpExchange;
  assert.doesNotThrow(() => runtime.onExchange(broken));
  assert.doesNotThrow(() => runtime.onExchange(broken));
  const w = new ExpositionWriter('prometheus');
  runtime.collect(w);
  assert.match(w.finish(), /^waypoint_telemetry_errors_total 2$/m);
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /telemetry failed.*boom/);
  await runtime.close();
});

test('a request on a snapshot without telemetry (hand-built) is ignored', async () => {
  const runtime = new TelemetryRuntime({ log: createLogger('text', () => undefined), buildTag: 't' });
  runtime.onExchange({ snapshot: {}, listener: { service: { key: 'a/b' } } } as unknown as HttpExchange);
  assert.equal(runtime.metrics.seriesCount, 0);
  await runtime.close();
});
