// Reads and writes a plugin's linear memory. Any call into the guest (including its allocator) may grow
// the memory and detach the previous ArrayBuffer, so views are re-created when `memory.buffer` changed,
// never kept across guest calls. Out-of-bounds pointers raise BadPointer, which host calls turn into
// `InvalidMemoryAccess`: the call fails, never the process.

export class BadPointer extends Error {}

/** The guest allocator failed (returned 0) or is missing. */
export class AllocationFailed extends Error {}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class GuestMemory {
  readonly #memory: WebAssembly.Memory;
  readonly #allocate: ((size: number) => number) | undefined;
  #buffer: ArrayBuffer | undefined = undefined;
  #u8: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(new ArrayBuffer(0));

  constructor(memory: WebAssembly.Memory, allocate: ((size: number) => number) | undefined) {
    this.#memory = memory;
    this.#allocate = allocate;
  }

  #refresh(): void {
    const b = this.#memory.buffer;
    if (b === this.#buffer) return;
    this.#buffer = b;
    this.#u8 = new Uint8Array(b);
    this.#view = new DataView(b);
  }

  get size(): number {
    return this.#memory.buffer.byteLength;
  }

  #check(ptr: number, len: number): void {
    this.#refresh();
    if (ptr < 0 || len < 0 || ptr + len > this.#u8.length) throw new BadPointer(`guest range ${ptr}+${len} outside memory of ${this.#u8.length} bytes`);
  }

  /** A view valid until the next call into the guest. */
  bytes(ptr: number, len: number): Uint8Array {
    this.#check(ptr >>> 0, len >>> 0);
    return this.#u8.subarray(ptr >>> 0, (ptr >>> 0) + (len >>> 0));
  }

  /** A copy, safe to keep. */
  copy(ptr: number, len: number): Buffer {
    return Buffer.from(this.bytes(ptr, len));
  }

  string(ptr: number, len: number): string {
    return len === 0 ? '' : decoder.decode(this.bytes(ptr, len));
  }

  u32(ptr: number): number {
    this.#check(ptr >>> 0, 4);
    return this.#view.getUint32(ptr >>> 0, true);
  }

  setU32(ptr: number, value: number): void {
    this.#check(ptr >>> 0, 4);
    this.#view.setUint32(ptr >>> 0, value >>> 0, true);
  }

  setU64(ptr: number, value: bigint): void {
    this.#check(ptr >>> 0, 8);
    this.#view.setBigUint64(ptr >>> 0, BigInt.asUintN(64, value), true);
  }

  setI32(ptr: number, value: number): void {
    this.#check(ptr >>> 0, 4);
    this.#view.setInt32(ptr >>> 0, value | 0, true);
  }

  /** Allocates `size` bytes in the guest (proxy_on_memory_allocate, else malloc); 0 for size 0. */
  allocate(size: number): number {
    if (size === 0) return 0;
    if (this.#allocate === undefined) throw new AllocationFailed('module exports neither proxy_on_memory_allocate nor malloc');
    const p = this.#allocate(size) >>> 0;
    if (p === 0) throw new AllocationFailed(`guest allocator returned 0 for ${size} bytes`);
    this.#check(p, size);
    return p;
  }

  /** Hands bytes to the guest: allocates with its allocator, copies, writes (ptr, len) at the out-params. */
  returnBytes(data: Uint8Array, ptrPtr: number, sizePtr: number): void {
    // Check the out-params first so a bad pointer does not leak an allocation.
    this.#check(ptrPtr >>> 0, 4);
    this.#check(sizePtr >>> 0, 4);
    const p = this.allocate(data.length);
    if (data.length > 0) {
      this.#refresh();
      this.#u8.set(data, p);
    }
    this.setU32(ptrPtr, p);
    this.setU32(sizePtr, data.length);
  }

  returnString(value: string, ptrPtr: number, sizePtr: number): void {
    this.#check(ptrPtr >>> 0, 4);
    this.#check(sizePtr >>> 0, 4);
    const n = Buffer.byteLength(value);
    const p = this.allocate(n);
    if (n > 0) {
      this.#refresh();
      encoder.encodeInto(value, this.#u8.subarray(p, p + n));
    }
    this.setU32(ptrPtr, p);
    this.setU32(sizePtr, n);
  }

  /**
   * Header map serialization straight into guest memory: u32 count, count × (u32 keyLen, u32 valLen),
   * then each `key \0 value \0` (proxy-wasm spec, little-endian). `fields` is flat [name, value, ...].
   */
  returnPairs(fields: ReadonlyArray<string>, ptrPtr: number, sizePtr: number): void {
    this.#check(ptrPtr >>> 0, 4);
    this.#check(sizePtr >>> 0, 4);
    const n = fields.length >> 1;
    let size = 4 + n * 8;
    for (let i = 0; i < fields.length; i++) size += Buffer.byteLength(fields[i] as string) + 1;
    const p = this.allocate(size);
    this.#refresh();
    const u8 = this.#u8;
    const view = this.#view;
    view.setUint32(p, n, true);
    let lens = p + 4;
    let data = p + 4 + n * 8;
    for (let i = 0; i < fields.length; i++) {
      const s = fields[i] as string;
      const written = encoder.encodeInto(s, u8.subarray(data, p + size)).written;
      view.setUint32(lens, written, true);
      lens += 4;
      data += written;
      u8[data++] = 0;
    }
    this.setU32(ptrPtr, p);
    this.setU32(sizePtr, size);
  }

  /** Reads a serialized header map from the guest; throws BadPointer on a malformed one. */
  pairs(ptr: number, len: number): string[] {
    if (len === 0) return [];
    const bytes = this.bytes(ptr, len);
    if (len < 4) {
      if (len === 1 && bytes[0] === 0) return [];
      throw new BadPointer('header map shorter than its count');
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = view.getUint32(0, true);
    if (4 + n * 8 > len) throw new BadPointer('header map truncated');
    const out: string[] = [];
    let data = 4 + n * 8;
    for (let i = 0; i < n; i++) {
      const kl = view.getUint32(4 + i * 8, true);
      const vl = view.getUint32(8 + i * 8, true);
      if (data + kl + vl + 2 > len) throw new BadPointer('header map truncated');
      out.push(decoder.decode(bytes.subarray(data, data + kl)), decoder.decode(bytes.subarray(data + kl + 1, data + kl + 1 + vl)));
      data += kl + vl + 2;
    }
    return out;
  }
}
