// Outlier detection state machine with a fake clock: thresholds, ejection growth, maxEjectionPercent, minHealthPercent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationMs, type OutlierPolicy, OutlierDetectors } from './outlier-detector.js';

const policy: OutlierPolicy = { consecutive5xx: 3, consecutiveGateway: 0, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 50, minHealthPercent: 0 };
const hosts = ['a', 'b', 'c', 'd'];

function setup(_p: OutlierPolicy = policy): { d: OutlierDetectors; clock: { now: number } } {
  const clock = { now: 1_000 };
  return { d: new OutlierDetectors(() => clock.now), clock };
}

test('ejects after N consecutive 5xx; a success resets the count', () => {
  const { d } = setup();
  for (const s of [500, 500, 200, 500, 500]) d.record(policy, hosts, 'a', { kind: 'status', status: s });
  assert.equal(d.isEjected('a'), false);
  d.record(policy, hosts, 'a', { kind: 'status', status: 503 });
  assert.equal(d.isEjected('a'), true);
});

test('ejection lasts baseEjectionTime × times ejected, then the endpoint returns', () => {
  const { d, clock } = setup();
  const fail = (): void => { for (let i = 0; i < 3; i++) d.record(policy, hosts, 'a', { kind: 'connect-failure' }); };
  fail();
  clock.now += 29_999;
  assert.equal(d.isEjected('a'), true);
  clock.now += 1;
  assert.equal(d.isEjected('a'), false);
  fail();
  clock.now += 59_999;
  assert.equal(d.isEjected('a'), true, 'second ejection is twice as long');
  clock.now += 1;
  assert.equal(d.isEjected('a'), false);
});

test('consecutiveGatewayErrors counts only 502/503/504', () => {
  const gw: OutlierPolicy = { ...policy, consecutive5xx: 0, consecutiveGateway: 2 };
  const { d } = setup(gw);
  for (const s of [500, 502, 500, 504]) d.record(gw, hosts, 'a', { kind: 'status', status: s });
  assert.equal(d.isEjected('a'), false);
  d.record(gw, hosts, 'a', { kind: 'status', status: 503 });
  assert.equal(d.isEjected('a'), true);
});

test('maxEjectionPercent bounds ejections; minHealthPercent falls back to every endpoint', () => {
  const { d } = setup();
  for (const h of hosts) for (let i = 0; i < 3; i++) d.record(policy, hosts, h, { kind: 'status', status: 500 });
  assert.deepEqual(hosts.filter((h) => d.isEjected(h)), ['a', 'b'], '50% of 4 hosts');
  const eps = hosts.map((key) => ({ key }));
  assert.deepEqual(d.healthy(policy, eps).map((e) => e.key), ['c', 'd']);
  assert.deepEqual(d.healthy({ ...policy, minHealthPercent: 60 }, eps).map((e) => e.key), hosts);
});

test('durationMs', () => {
  assert.deepEqual(['30s', '1.5s', '500ms', '1m', '1h', 'x'].map(durationMs), [30_000, 1_500, 500, 60_000, 3_600_000, 0]);
});
