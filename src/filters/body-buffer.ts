// The body data a body-phase filter sees: the chunks held at its stage so far, read and rewritten in place
// (proxy-wasm `proxy_get_buffer_bytes` / `proxy_set_buffer_bytes` semantics).

export class BodyBuffer {
  #chunks: Buffer[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Everything held, as one buffer (joined once; later reads reuse it). */
  bytes(): Buffer {
    const c = this.#chunks;
    if (c.length === 1) return c[0] as Buffer;
    const all = Buffer.concat(c, this.#length);
    this.#chunks = all.length === 0 ? [] : [all];
    return all;
  }

  /** Up to `max` bytes from `start`. */
  read(start: number, max: number): Buffer {
    if (start >= this.#length) return Buffer.alloc(0);
    return this.bytes().subarray(start, Math.min(this.#length, start + max));
  }

  /**
   * proxy-wasm set_buffer_bytes: `start = 0, size = 0` prepends, `start >= length` appends, otherwise
   * replaces `size` bytes at `start` with `value`.
   */
  replace(start: number, size: number, value: Uint8Array): void {
    const all = this.bytes();
    const s = Math.min(start, all.length);
    const e = Math.min(all.length, s + size);
    const next = Buffer.concat([all.subarray(0, s), value, all.subarray(e)]);
    this.#chunks = next.length === 0 ? [] : [next];
    this.#length = next.length;
  }

  /** Hands everything held to the next stage and empties this one. */
  take(): Buffer | undefined {
    if (this.#length === 0) return undefined;
    const out = this.bytes();
    this.#chunks = [];
    this.#length = 0;
    return out;
  }
}
