// Slow start: the weight factor over the window, and which endpoints LbRuntime treats as warming.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterConfig } from '../../config/snapshot.js';
import { LbRuntime } from './lb-runtime.js';
import { slowStartFactor } from './slow-start.js';

const linear = { windowMs: 1000, minWeight: 0.1, aggression: 1 };
const cases = [
  { name: 'never warming', s: linear, added: 0, now: 5, want: 1 },
  { name: 'just added: the minimum weight', s: linear, added: 1000, now: 1001, want: 0.1 },
  { name: 'half the window, linear', s: linear, added: 1000, now: 1500, want: 0.5 },
  { name: 'window over', s: linear, added: 1000, now: 2000, want: 1 },
  { name: 'aggression 2 is slower at first', s: { ...linear, aggression: 2 }, added: 1000, now: 1250, want: 0.5 },
  { name: 'minimum 0 allows tiny weights', s: { ...linear, minWeight: 0 }, added: 1000, now: 1010, want: 0.01 },
];
for (const c of cases) test(`slowStartFactor: ${c.name}`, () => assert.equal(slowStartFactor(c.s, c.added, c.now), c.want));

const cluster = (keys: string[], warm = true): ClusterConfig => ({
  id: 'c', service: 'default/s', hostname: 's', port: 80, protocol: 'http',
  endpoints: keys.map((key) => ({ key, address: key.split(':')[0] ?? '', port: 80, workload: undefined })),
  ...(warm ? { lb: { kind: 'round-robin', warmup: linear } } : {}),
});

test('LbRuntime.track: endpoints of a new cluster are warm; later ones join at the time they appear', () => {
  let now = 100;
  const rt = new LbRuntime(() => now);
  rt.track([cluster(['a:80'])]);
  assert.equal(rt.joinedAt('c', 'a:80'), 0);
  now = 200;
  rt.track([cluster(['a:80', 'b:80'])]);
  assert.equal(rt.joinedAt('c', 'b:80'), 200);
  now = 300;
  rt.track([cluster(['a:80', 'b:80'])]);
  assert.equal(rt.joinedAt('c', 'b:80'), 200, 'a later swap does not restart the window');
  rt.track([cluster(['a:80', 'b:80'], false)]);
  assert.equal(rt.joinedAt('c', 'b:80'), 0, 'no slow start: nothing is warming');
});
