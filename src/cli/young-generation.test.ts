import assert from 'node:assert/strict';
import test from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { nodeFlagsOf, YoungGenerationCap } from './young-generation.js';

const MiB = 1024 * 1024;

/**
 * Allocation where much survives a scavenge (a sliding window of live objects): what makes V8 grow the young
 * generation. Small steps between turns of the event loop, as a proxy's requests are: the cap is steered from
 * GC notifications, which arrive between turns.
 */
async function churn(rounds: number): Promise<void> {
  let window: Array<{ a: number; b: string; c: number[] }> = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 2_000; i++) window.push({ a: i, b: `v${i}`, c: [i, r] });
    if (window.length > 200_000) window = window.slice(100_000);
    await turn();
  }
}

const flagCases = [
  { name: 'no flags: held', flags: '', held: true },
  { name: 'unrelated flags: held', flags: '--enable-source-maps --max-old-space-size=512', held: true },
  { name: '--max-semi-space-size on the command line wins', flags: '--max-semi-space-size=2 ', held: false },
  { name: '--min-semi-space-size in NODE_OPTIONS wins', flags: ' --min-semi-space-size=4', held: false },
  { name: '--semi-space-growth-factor wins', flags: '--semi-space-growth-factor=4', held: false },
];
for (const c of flagCases) {
  test(`YoungGenerationCap.hold: ${c.name}`, () => {
    const cap = YoungGenerationCap.hold(c.flags);
    assert.equal(cap !== undefined, c.held);
    cap?.release();
  });
}

test('nodeFlagsOf joins execArgv and NODE_OPTIONS', () => {
  assert.equal(nodeFlagsOf({ execArgv: ['--a', '--b=1'], env: { NODE_OPTIONS: '--c' } }), '--a --b=1 --c');
  assert.equal(nodeFlagsOf({ execArgv: [], env: {} }), ' ');
});

// One test drives the process-wide young generation through hold, grow and release, in that order.
test('the young generation stays at its initial size while held, at the cap once grown, and grows past it once released', async () => {
  const cap = YoungGenerationCap.hold('');
  assert.ok(cap !== undefined);
  const initial = YoungGenerationCap.semiSpaceBytes();
  assert.ok(initial <= 1 * MiB, `initial semi-space ${initial}`);
  try {
    await churn(600);
    assert.ok(YoungGenerationCap.semiSpaceBytes() <= initial, `held: ${YoungGenerationCap.semiSpaceBytes()} > ${initial}`);
    cap.grow(2);
    await churn(1_200);
    const capped = YoungGenerationCap.semiSpaceBytes();
    assert.ok(capped > initial, `did not grow at all: ${capped}`);
    // At most one doubling past the cap: GC notifications arrive between turns, and scavenges back to back
    // within one turn can grow it once more before the factor is switched (young-generation.ts says so).
    assert.ok(capped <= 2 * 2 * MiB, `more than one doubling over the 2 MiB cap: ${capped}`);
  } finally {
    cap.release();
  }
  // The same allocation without the cap takes it past that bound (to V8's 16 MiB here): the cap is what held it.
  await churn(2_000);
  assert.ok(YoungGenerationCap.semiSpaceBytes() > 2 * 2 * MiB, `V8 did not grow it: ${YoungGenerationCap.semiSpaceBytes()}`);
});
