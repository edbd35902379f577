// A minimal WebAssembly binary reader/writer: LEB128 and section splitting, enough to rewrite a module
// (module-instrument.ts) without a third-party toolchain at run time.

export class WasmFormatError extends Error {}

export class ByteReader {
  readonly bytes: Uint8Array;
  pos: number;

  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  byte(): number {
    const b = this.bytes[this.pos++];
    if (b === undefined) throw new WasmFormatError('unexpected end of module');
    return b;
  }

  /** Unsigned LEB128 (up to 32 bits; larger values are kept as a JS number). */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new WasmFormatError('LEB128 too long');
    }
  }

  /** Skips a signed or unsigned LEB128 of any width. */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw new WasmFormatError('LEB128 too long');
  }

  skip(n: number): void {
    this.pos += n;
    if (this.pos > this.bytes.length) throw new WasmFormatError('unexpected end of module');
  }

  name(): string {
    const n = this.u32();
    const start = this.pos;
    this.skip(n);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, n).toString('utf8');
  }
}

export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export interface Section {
  readonly id: number;
  readonly payload: Uint8Array;
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export function readSections(bytes: Uint8Array): Section[] {
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC[i]) throw new WasmFormatError('not a WebAssembly module (bad magic or version)');
  const r = new ByteReader(bytes, 8);
  const sections: Section[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    sections.push({ id, payload: bytes.subarray(start, start + size) });
  }
  return sections;
}

export function writeModule(sections: ReadonlyArray<Section>): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from(MAGIC)];
  for (const s of sections) parts.push(Uint8Array.from([s.id, ...uleb(s.payload.length)]), s.payload);
  return Buffer.concat(parts);
}

/** Section ids in the order the spec requires (custom sections, id 0, may appear anywhere). */
export const SECTION_ORDER: ReadonlyArray<number> = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
