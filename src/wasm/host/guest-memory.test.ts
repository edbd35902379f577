import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BadPointer, GuestMemory } from './guest-memory.js';

/** A memory with a bump allocator from 1024, growing one page when needed (detaching the old buffer). */
function guest(): { mem: GuestMemory; memory: WebAssembly.Memory } {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 10 });
  let top = 1024;
  const mem = new GuestMemory(memory, (size) => {
    if (top + size > memory.buffer.byteLength) memory.grow(1);
    const p = top;
    top += size;
    return p;
  });
  return { mem, memory };
}

for (const c of [
  { name: 'empty map', fields: [] as string[] },
  { name: 'ASCII pairs', fields: ['a', '1', 'b', '22'] },
  { name: 'non-ASCII values and repeated names', fields: [':path', '/é', 'x', 'ü', 'x', ''] },
]) {
  test(`header map round trip: ${c.name}`, () => {
    const { mem } = guest();
    mem.returnPairs(c.fields, 8, 12);
    assert.deepEqual(mem.pairs(mem.u32(8), mem.u32(12)), c.fields);
  });
}

test("the spec's example map serializes to its bytes", () => {
  const { mem } = guest();
  mem.returnPairs(['a', '1', 'b', '22'], 8, 12);
  assert.equal(Buffer.from(mem.bytes(mem.u32(8), mem.u32(12))).toString('hex'), '02000000010000000100000001000000020000006100310062003232' + '00');
});

test('a one-byte 0x00 map and a zero-length map are empty', () => {
  const { mem } = guest();
  mem.bytes(100, 1)[0] = 0;
  assert.deepEqual(mem.pairs(100, 1), []);
  assert.deepEqual(mem.pairs(100, 0), []);
});

for (const c of [
  { name: 'a range past the end', run: (m: GuestMemory) => m.bytes(65530, 100) },
  { name: 'an out-param past the end', run: (m: GuestMemory) => m.returnBytes(Uint8Array.of(1), 70000, 8) },
  { name: 'a negative pointer (as u32, huge)', run: (m: GuestMemory) => m.string(-16, 4) },
  { name: 'a truncated header map', run: (m: GuestMemory) => { m.setU32(200, 5); return m.pairs(200, 12); } },
]) {
  test(`bad pointer: ${c.name}`, () => {
    assert.throws(() => c.run(guest().mem), BadPointer);
  });
}

test('bytes returned after the allocator grew memory land in the new buffer', () => {
  const { mem, memory } = guest();
  const before = memory.buffer;
  const data = new Uint8Array(70_000).fill(7);
  mem.returnBytes(data, 8, 12);
  assert.notEqual(memory.buffer, before, 'memory grew');
  assert.equal(mem.u32(12), 70_000);
  assert.equal(mem.bytes(mem.u32(8), 70_000).every((b) => b === 7), true);
});
