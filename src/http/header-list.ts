// A mutable list of HTTP header fields kept flat ([name, value, name, value, ...]) in wire order and case,
// with case-insensitive operations. Filters edit it; the upstream client and writeHead take it as is.

export class HeaderList {
  /** Flat name/value pairs; names keep the case they arrived with. */
  readonly fields: string[];
  #modified = false;

  constructor(fields: string[] = []) {
    this.fields = fields;
  }

  /** True once any filter changed the list (route selection then re-reads it). */
  get modified(): boolean {
    return this.#modified;
  }

  /** First value of `name` (case-insensitive), or undefined. */
  get(name: string): string | undefined {
    const f = this.fields;
    for (let i = 0; i < f.length; i += 2) if (equalsIgnoreCase(f[i] as string, name)) return f[i + 1];
    return undefined;
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const out: string[] = [];
    const f = this.fields;
    for (let i = 0; i < f.length; i += 2) if (equalsIgnoreCase(f[i] as string, name)) out.push(f[i + 1] as string);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every value of `name` with one (appended at the end when absent). */
  set(name: string, value: string): void {
    this.#modified = true;
    const f = this.fields;
    let found = false;
    for (let i = 0; i < f.length; ) {
      if (equalsIgnoreCase(f[i] as string, name)) {
        if (found) {
          f.splice(i, 2);
          continue;
        }
        f[i + 1] = value;
        found = true;
      }
      i += 2;
    }
    if (!found) f.push(name, value);
  }

  /** Appends another field line (HTTPRoute `add` semantics: existing values are kept). */
  add(name: string, value: string): void {
    this.#modified = true;
    this.fields.push(name, value);
  }

  /** Removes every field named `name`; returns how many were removed. */
  remove(name: string): number {
    const f = this.fields;
    let removed = 0;
    for (let i = 0; i < f.length; ) {
      if (equalsIgnoreCase(f[i] as string, name)) {
        f.splice(i, 2);
        removed++;
      } else i += 2;
    }
    if (removed > 0) this.#modified = true;
    return removed;
  }

  /** Node-style header object (lower-case names, repeated values joined with ", "), for matchers. */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    const f = this.fields;
    for (let i = 0; i < f.length; i += 2) {
      const name = (f[i] as string).toLowerCase();
      const prev = out[name];
      out[name] = prev === undefined ? (f[i + 1] as string) : `${prev}, ${f[i + 1] as string}`;
    }
    return out;
  }
}

function equalsIgnoreCase(a: string, b: string): boolean {
  return a.length === b.length && (a === b || a.toLowerCase() === b.toLowerCase());
}
