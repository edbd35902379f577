// A minimal protobuf wire codec (varint, length-delimited) for the ext_authz Check messages: enough to
// write a CheckRequest and read a CheckResponse without a code generator or runtime dependency.

export class ProtoWriter {
  readonly #chunks: Buffer[] = [];
  #length = 0;

  #push(b: Buffer): void {
    this.#chunks.push(b);
    this.#length += b.length;
  }

  #varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.#push(Buffer.from(bytes));
  }

  #tag(field: number, wire: number): void {
    this.#varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    if (value === 0 || value === 0n) return this;
    this.#tag(field, 0);
    this.#varint(value);
    return this;
  }

  string(field: number, value: string | undefined): this {
    if (value === undefined || value === '') return this;
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  bytes(field: number, value: Buffer): this {
    this.#tag(field, 2);
    this.#varint(value.length);
    this.#push(value);
    return this;
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  /** map<string, string> entries: key = 1, value = 2. */
  map(field: number, entries: Iterable<readonly [string, string]>): this {
    for (const [k, v] of entries) this.message(field, (e) => e.string(1, k).string(2, v));
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.#chunks, this.#length);
  }
}

/** Fields of one message: field number → raw values in wire order (varints as bigint, others as Buffer). */
export type ProtoFields = Map<number, Array<bigint | Buffer>>;

export function readMessage(buf: Buffer): ProtoFields {
  const out: ProtoFields = new Map();
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    let value: bigint | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated field');
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 1) {
      value = buf.subarray(i, i + 8);
      i += 8;
    } else if (wire === 5) {
      value = buf.subarray(i, i + 4);
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

export function fieldMessage(f: ProtoFields, n: number): ProtoFields | undefined {
  const v = f.get(n)?.at(-1);
  return Buffer.isBuffer(v) ? readMessage(v) : undefined;
}

export function fieldMessages(f: ProtoFields, n: number): ProtoFields[] {
  return (f.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v)).map(readMessage);
}

export function fieldString(f: ProtoFields, n: number): string | undefined {
  const v = f.get(n)?.at(-1);
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

export function fieldStrings(f: ProtoFields, n: number): string[] {
  return (f.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v)).map((v) => v.toString('utf8'));
}

export function fieldInt(f: ProtoFields, n: number): number | undefined {
  const v = f.get(n)?.at(-1);
  return typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : undefined;
}
