import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../../test/fixtures/wasm/build.js';
import { FUEL_EXPORT, instrumentModule } from './module-instrument.js';

const MODULE = `(module
  (global $g (mut i32) (i32.const 7))
  (memory (export "memory") 1 4000)
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    (block $out (loop $next
      (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.add (local.get $i) (global.get $g)))
  (func (export "spin") (loop $l (br $l)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`;

interface Exports {
  count(n: number): number;
  spin(): void;
  grow(pages: number): number;
}

async function instance(maxMemoryPages: number, text = MODULE): Promise<{ exports: Exports; fuel: WebAssembly.Global }> {
  const bytes = instrumentModule(await wat(text), { initialFuel: 1000, maxMemoryPages });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  return { exports: inst.exports as unknown as Exports, fuel: inst.exports[FUEL_EXPORT] as WebAssembly.Global };
}

for (const c of [
  { name: 'a loop of 10 iterations costs 1 (entry) + 11 (loop headers)', n: 10, fuel: 100, left: 100 - 12 },
  { name: 'no iterations: the entry and one loop header', n: 0, fuel: 5, left: 3 },
]) {
  test(c.name, async () => {
    const { exports, fuel } = await instance(64);
    fuel.value = c.fuel;
    assert.equal(exports.count(c.n), c.n + 7, 'behaviour and existing globals untouched');
    assert.equal(fuel.value, c.left);
  });
}

test('an infinite loop traps when the fuel runs out, leaving it at zero', async () => {
  const { exports, fuel } = await instance(64);
  fuel.value = 100_000;
  assert.throws(() => exports.spin(), WebAssembly.RuntimeError);
  assert.equal(fuel.value, 0);
});

for (const c of [
  { name: 'a declared maximum above the cap is lowered to it', cap: 8, grows: [[6, 1], [2, -1], [1, 7]] },
  { name: 'a declared maximum below the cap is kept', cap: 8000, grows: [[3998, 1], [2, -1]] },
]) {
  test(c.name, async () => {
    const { exports } = await instance(c.cap);
    for (const [pages, result] of c.grows) assert.equal(exports.grow(pages ?? 0), result, `grow(${pages})`);
  });
}

test('a memory without a maximum gets the cap; a minimum above it refuses the module', async () => {
  const { exports } = await instance(3, '(module (memory (export "memory") 1) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))');
  assert.equal(exports.grow(3), -1);
  assert.equal(exports.grow(2), 1);
  await assert.rejects(instance(3, '(module (memory 5))'), /memory minimum of 5 pages exceeds the limit of 3/);
});

test('a module without globals or exports gets both sections', async () => {
  const bytes = instrumentModule(await wat('(module (func $f (loop $l (br $l))) (start $f))'), { initialFuel: 50, maxMemoryPages: 1 });
  // The start function runs at instantiation with the initial fuel and is stopped by it.
  assert.throws(() => new WebAssembly.Instance(new WebAssembly.Module(bytes)), WebAssembly.RuntimeError);
});
