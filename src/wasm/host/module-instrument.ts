// Bounds a plugin's CPU and memory before it is compiled. Wasm running on the main thread cannot be
// interrupted by a timer, so instead of moving VMs to worker threads (every callback and host call would
// become a cross-thread round trip) the module is rewritten: a fuel counter (a new exported mutable i32
// global) is decremented at every function entry and loop header and traps with `unreachable` at zero;
// the host refills it before each callback. The memory section's maximum is capped so `memory.grow`
// fails (returns -1) past the limit instead of exhausting the process.
import { ByteReader, readSections, type Section, SECTION_ORDER, sleb, uleb, WasmFormatError, writeModule } from './wasm-reader.js';

/** Name of the exported fuel global the host refills before each callback. */
export const FUEL_EXPORT = '__waypoint_fuel';

export interface InstrumentOptions {
  /** Fuel the counter starts with (covers the module's start function); the host refills it per callback. */
  readonly initialFuel: number;
  /** Largest memory, in 64 KiB pages. */
  readonly maxMemoryPages: number;
}

export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions): Uint8Array {
  const sections = readSections(bytes);
  const importedGlobals = countImportedGlobals(sections.find((s) => s.id === 2));
  const globalSection = sections.find((s) => s.id === 6);
  const definedGlobals = globalSection === undefined ? 0 : new ByteReader(globalSection.payload).u32();
  const fuelIndex = importedGlobals + definedGlobals;
  const check = fuelCheck(fuelIndex);
  const out: Section[] = [];
  for (const s of sections) {
    switch (s.id) {
      case 5: out.push({ id: 5, payload: capMemories(s.payload, options.maxMemoryPages) }); break;
      case 6: out.push({ id: 6, payload: appendToVector(s.payload, fuelGlobal(options.initialFuel)) }); break;
      case 7: out.push({ id: 7, payload: appendToVector(s.payload, fuelExport(fuelIndex)) }); break;
      case 10: out.push({ id: 10, payload: instrumentCode(s.payload, check) }); break;
      default: out.push(s);
    }
  }
  if (globalSection === undefined) insertSection(out, { id: 6, payload: Uint8Array.from([1, ...fuelGlobal(options.initialFuel)]) });
  if (!sections.some((s) => s.id === 7)) insertSection(out, { id: 7, payload: Uint8Array.from([1, ...fuelExport(fuelIndex)]) });
  return writeModule(out);
}

function fuelGlobal(initial: number): number[] {
  return [0x7f, 0x01, 0x41, ...sleb(initial), 0x0b];
}

function fuelExport(index: number): number[] {
  const name = Buffer.from(FUEL_EXPORT);
  return [...uleb(name.length), ...name, 0x03, ...uleb(index)];
}

/** `if (fuel == 0) unreachable; fuel -= 1` — stack-neutral, so valid at function entry and loop headers. */
function fuelCheck(index: number): Uint8Array {
  const g = uleb(index);
  return Uint8Array.from([0x23, ...g, 0x45, 0x04, 0x40, 0x00, 0x0b, 0x23, ...g, 0x41, 0x01, 0x6b, 0x24, ...g]);
}

function insertSection(sections: Section[], section: Section): void {
  const rank = SECTION_ORDER.indexOf(section.id);
  const at = sections.findIndex((s) => s.id !== 0 && SECTION_ORDER.indexOf(s.id) > rank);
  if (at === -1) sections.push(section);
  else sections.splice(at, 0, section);
}

function appendToVector(payload: Uint8Array, entry: ReadonlyArray<number>): Uint8Array {
  const r = new ByteReader(payload);
  const count = r.u32();
  return Buffer.concat([Uint8Array.from(uleb(count + 1)), payload.subarray(r.pos), Uint8Array.from(entry)]);
}

function countImportedGlobals(section: Section | undefined): number {
  if (section === undefined) return 0;
  const r = new ByteReader(section.payload);
  let globals = 0;
  for (let n = r.u32(); n > 0; n--) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0x00) r.u32();
    else if (kind === 0x01) {
      r.byte();
      skipLimits(r);
    } else if (kind === 0x02) skipLimits(r);
    else if (kind === 0x03) {
      globals++;
      r.byte();
      r.byte();
    } else if (kind === 0x04) {
      r.byte();
      r.u32();
    } else throw new WasmFormatError(`unknown import kind ${kind}`);
  }
  return globals;
}

function skipLimits(r: ByteReader): void {
  const flags = r.byte();
  r.skipLeb();
  if ((flags & 1) !== 0) r.skipLeb();
}

function capMemories(payload: Uint8Array, maxPages: number): Uint8Array {
  const r = new ByteReader(payload);
  const out: number[] = [];
  const count = r.u32();
  out.push(...uleb(count));
  for (let i = 0; i < count; i++) {
    const flags = r.byte();
    if ((flags & ~1) !== 0) throw new WasmFormatError('shared or 64-bit memories are not supported');
    const min = r.u32();
    const max = (flags & 1) !== 0 ? r.u32() : maxPages;
    if (min > maxPages) throw new WasmFormatError(`memory minimum of ${min} pages exceeds the limit of ${maxPages}`);
    out.push(0x01, ...uleb(min), ...uleb(Math.min(max, maxPages)));
  }
  return Uint8Array.from(out);
}

function instrumentCode(payload: Uint8Array, check: Uint8Array): Uint8Array {
  const r = new ByteReader(payload);
  const count = r.u32();
  const parts: Uint8Array[] = [Uint8Array.from(uleb(count))];
  for (let f = 0; f < count; f++) {
    const size = r.u32();
    const end = r.pos + size;
    const body = new ByteReader(payload.subarray(r.pos, end));
    for (let groups = body.u32(); groups > 0; groups--) {
      body.u32();
      body.byte();
    }
    const localsEnd = body.pos;
    const pieces: Uint8Array[] = [body.bytes.subarray(0, localsEnd), check];
    let copied = localsEnd;
    // Walk the instructions; after each `loop` and its block type, splice in the fuel check.
    while (!body.done) {
      const op = body.byte();
      skipImmediates(body, op);
      if (op === 0x03) {
        pieces.push(body.bytes.subarray(copied, body.pos), check);
        copied = body.pos;
      }
    }
    pieces.push(body.bytes.subarray(copied));
    const newBody = Buffer.concat(pieces);
    parts.push(Uint8Array.from(uleb(newBody.length)), newBody);
    r.pos = end;
  }
  return Buffer.concat(parts);
}

function skipBlockType(r: ByteReader): void {
  const b = r.bytes[r.pos];
  if (b === 0x40 || b === 0x7f || b === 0x7e || b === 0x7d || b === 0x7c || b === 0x7b || b === 0x70 || b === 0x6f) r.pos++;
  else r.skipLeb();
}

function skipMemarg(r: ByteReader): void {
  const align = r.u32();
  if ((align & 0x40) !== 0) r.u32();
  r.skipLeb();
}

/** Skips the immediates of `op`; instructions outside MVP + common post-MVP features refuse the module. */
function skipImmediates(r: ByteReader, op: number): void {
  if (op === 0x02 || op === 0x03 || op === 0x04) return skipBlockType(r);
  if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || op === 0xd2 || (op >= 0x20 && op <= 0x26)) return void r.u32();
  if (op === 0x0e) {
    for (let n = r.u32(); n > 0; n--) r.u32();
    return void r.u32();
  }
  if (op === 0x11 || op === 0x13) {
    r.u32();
    return void r.u32();
  }
  if (op === 0x1c) {
    for (let n = r.u32(); n > 0; n--) r.byte();
    return;
  }
  if (op >= 0x28 && op <= 0x3e) return skipMemarg(r);
  if (op === 0x3f || op === 0x40) return void r.byte();
  if (op === 0x41 || op === 0x42) return r.skipLeb();
  if (op === 0x43) return r.skip(4);
  if (op === 0x44) return r.skip(8);
  if (op === 0xd0) return void r.byte();
  if (op === 0xfc) return skipPrefixedFC(r);
  if (op === 0xfd) return skipSimd(r);
  if (op === 0xfe) {
    const sub = r.u32();
    if (sub === 0x03) return void r.byte();
    return skipMemarg(r);
  }
  // No immediates: control (unreachable, nop, else, end, return), drop, select, numeric, ref.is_null.
  if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) || op === 0xd1) return;
  throw new WasmFormatError(`unsupported instruction 0x${op.toString(16)}`);
}

function skipPrefixedFC(r: ByteReader): void {
  const sub = r.u32();
  if (sub <= 7) return;
  if (sub === 8 || sub === 10 || sub === 12 || sub === 14) {
    r.u32();
    return void r.u32();
  }
  if (sub === 9 || sub === 11 || sub === 13 || sub === 15 || sub === 16 || sub === 17) return void r.u32();
  throw new WasmFormatError(`unsupported instruction 0xfc ${sub}`);
}

function skipSimd(r: ByteReader): void {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) return skipMemarg(r);
  if (sub === 12 || sub === 13) return r.skip(16);
  if (sub >= 21 && sub <= 34) return r.skip(1);
  if (sub >= 84 && sub <= 91) {
    skipMemarg(r);
    return r.skip(1);
  }
}
