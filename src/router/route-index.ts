// A compiled, immutable index over one route table (entries in first-match order) that narrows the entries
// a request must be tested against, while selecting exactly what scanRoutes selects on the same table.
import type { RouteEntry } from '../config/snapshot.js';
import { hostMatches, hostWithoutPort } from './hostnames.js';
import { type IndexableConditions, indexableConditions } from './match/http-match.js';
import { PathKind } from './match/path.js';
import type { RequestView } from './request-view.js';

/*
 * How it stays equal to the scan: every entry is filed under a condition that is *necessary* for its match:
 * an Exact path (equal to the request path) or a PathPrefix value (the request path up to a `/` or its end);
 * without either (any path, RegularExpression), the value of its Exact condition on the table's most common
 * such header, else its method; else, as VirtualService matchers (whose conditions are opaque), the
 * "always" run. A request gathers the runs it can hit; each run holds table positions in ascending order.
 * The scan's answer is the lowest position whose entry fully matches, which is the minimum over runs of each
 * run's first full match, so runs are walked one after the other and a run stops at the first position not
 * below the best found so far. Candidates are still tested in full (hostnames, then the compiled match), so
 * a hash collision only costs a test. Runs are walked Exact first, then longest prefix first, then header,
 * method and "always": the table's own precedence order, so the first hit is usually final and every later
 * run stops at once.
 */

const SLASH = 0x2f;
// FNV-1a (32-bit) over UTF-16 code units: allocation-free and computed while walking the request path once.
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
/** Keys stay within V8's small-integer range so Map lookups never box a number. */
const KEY_MASK = 0x3fffffff;

/** Hash of a whole path key, as `select` computes it incrementally over a request path. */
function keyHash(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

const NO_RUNS: ReadonlyMap<never, number> = new Map<never, number>();

/** Boundaries of the prefix runs a request hit; reused across requests (selection is synchronous). */
let scratch = new Int32Array(32);

export interface RouteIndexOptions {
  /** Narrower hash keys; tests use it to force collisions. Defaults to the full key. */
  readonly keyMask?: number;
}

export class RouteIndex {
  /** The table this index was built for; selection through it must not be used for another table. */
  readonly table: ReadonlyArray<RouteEntry>;
  /** Exact path key → offset of its run in #runs. */
  readonly #exact: ReadonlyMap<number, number>;
  /** PathPrefix value (without trailing `/`) key → offset of its run in #runs. */
  readonly #prefix: ReadonlyMap<number, number>;
  /** Runs laid end to end: `count, position × count`, positions ascending. */
  readonly #runs: Int32Array;
  /** Header whose Exact value files entries without an indexable path (lower-case); undefined: none. */
  readonly #header: string | undefined;
  /** That header's value → offset of its run. */
  readonly #byHeader: ReadonlyMap<string, number>;
  /** Method → offset of the run of entries without an indexable path or #header condition. */
  readonly #byMethod: ReadonlyMap<string, number>;
  /** Offset of the run of the remaining entries (and of every VirtualService matcher). */
  readonly #always: number;
  /** Length of the longest Exact or PathPrefix key: path characters beyond it cannot end one. */
  readonly #maxKey: number;
  readonly #mask: number;
  /** Some entry has Gateway hostnames: the request's host is derived once per selection. */
  readonly #hostnames: boolean;

  constructor(table: ReadonlyArray<RouteEntry>, options: RouteIndexOptions = {}) {
    this.table = table;
    this.#mask = options.keyMask ?? KEY_MASK;
    const conditions = table.map((e) => indexableConditions(e.match));
    this.#header = mostCommonExactHeader(conditions);
    const exact = new Map<number, number[]>();
    const prefix = new Map<number, number[]>();
    const byHeader = new Map<string, number[]>();
    const byMethod = new Map<string, number[]>();
    const always: number[] = [];
    let maxKey = 0;
    conditions.forEach((c, pos) => {
      const path = c?.path;
      if (c === undefined) always.push(pos);
      else if (path !== undefined) {
        group(path.kind === PathKind.Exact ? exact : prefix, keyHash(path.value) & this.#mask, pos);
        if (path.value.length > maxKey) maxKey = path.value.length;
      } else {
        const header = c.exactHeaders.find((h) => h.name === this.#header)?.exact;
        if (header !== undefined) group(byHeader, header, pos);
        else if (c.method !== undefined) group(byMethod, c.method, pos);
        else always.push(pos);
      }
    });
    const runs = new Int32Array(table.length + exact.size + prefix.size + byHeader.size + byMethod.size + 1);
    let at = 0;
    const lay = (positions: ReadonlyArray<number>): number => {
      const offset = at;
      runs[at++] = positions.length;
      for (const p of positions) runs[at++] = p;
      return offset;
    };
    // Most tables leave some groups empty; they share one empty map (an index per Service port adds up).
    const layAll = <K>(groups: Map<K, number[]>): ReadonlyMap<K, number> =>
      groups.size === 0 ? NO_RUNS : new Map([...groups].map(([key, positions]) => [key, lay(positions)]));
    this.#exact = layAll(exact);
    this.#prefix = layAll(prefix);
    this.#byHeader = layAll(byHeader);
    this.#byMethod = layAll(byMethod);
    this.#always = lay(always);
    this.#runs = runs;
    this.#maxKey = maxKey;
    this.#hostnames = table.some((e) => e.hostnames !== null);
    Object.freeze(this);
  }

  /** The first entry of the table (in its order) that accepts the request: what scanRoutes returns. */
  select(view: RequestView): RouteEntry | undefined {
    const host = this.#hostnames ? hostWithoutPort(view.header('host') ?? '') : '';
    const path = view.path;
    const n = path.length;
    const end = n < this.#maxKey ? n : this.#maxKey;
    const mask = this.#mask;
    let exactRun = -1;
    let hits = 0;
    let h = FNV_OFFSET;
    // h is the key of path[0, i) after each step; a PathPrefix key can end where a `/` follows or at the end.
    for (let i = 0; i < end; ) {
      h = Math.imul(h ^ path.charCodeAt(i), FNV_PRIME);
      i++;
      let run: number | undefined;
      if (i === n) {
        exactRun = this.#exact.get(h & mask) ?? -1;
        run = this.#prefix.get(h & mask);
      } else if (path.charCodeAt(i) === SLASH) {
        run = this.#prefix.get(h & mask);
      }
      if (run === undefined) continue;
      if (hits === scratch.length) {
        const grown = new Int32Array(hits * 2);
        grown.set(scratch);
        scratch = grown;
      }
      scratch[hits++] = run;
    }
    let best = this.table.length;
    if (exactRun >= 0) best = this.#firstInRun(exactRun, best, view, host);
    while (hits > 0) best = this.#firstInRun(scratch[--hits] as number, best, view, host);
    if (this.#header !== undefined) {
      const value = view.header(this.#header);
      const run = value === undefined ? undefined : this.#byHeader.get(value);
      if (run !== undefined) best = this.#firstInRun(run, best, view, host);
    }
    const run = this.#byMethod.get(view.method);
    if (run !== undefined) best = this.#firstInRun(run, best, view, host);
    best = this.#firstInRun(this.#always, best, view, host);
    return best < this.table.length ? this.table[best] : undefined;
  }

  /** The lowest position of the run, below `best`, whose entry accepts the request; else `best`. */
  #firstInRun(offset: number, best: number, view: RequestView, host: string): number {
    const runs = this.#runs;
    const end = offset + 1 + (runs[offset] as number);
    for (let k = offset + 1; k < end; k++) {
      const pos = runs[k] as number;
      if (pos >= best) return best;
      const entry = this.table[pos] as RouteEntry;
      if (entry.hostnames !== null && !hostMatches(entry.hostnames, host)) continue;
      if (entry.match.test(view)) return pos;
    }
    return best;
  }
}

function group<K>(groups: Map<K, number[]>, key: K, pos: number): void {
  const run = groups.get(key);
  if (run === undefined) groups.set(key, [pos]);
  else run.push(pos);
}

/** The header name most entries without an indexable path match Exact on (first seen on ties). */
function mostCommonExactHeader(conditions: ReadonlyArray<IndexableConditions | undefined>): string | undefined {
  const counts = new Map<string, number>();
  for (const c of conditions) {
    if (c === undefined || c.path !== undefined) continue;
    for (const h of c.exactHeaders) counts.set(h.name, (counts.get(h.name) ?? 0) + 1);
  }
  let best: string | undefined;
  let most = 0;
  for (const [name, n] of counts) {
    if (n > most) {
      best = name;
      most = n;
    }
  }
  return best;
}

/** Indexes of a routing's producer table and of each consumer namespace's table (GEP-1294). */
export interface RoutingIndex {
  readonly producer: RouteIndex;
  readonly consumers: ReadonlyMap<string, RouteIndex>;
}

export function buildRoutingIndex(producer: ReadonlyArray<RouteEntry>, consumers: ReadonlyMap<string, ReadonlyArray<RouteEntry>>): RoutingIndex {
  const byNamespace = new Map<string, RouteIndex>();
  for (const [ns, table] of consumers) byNamespace.set(ns, new RouteIndex(table));
  return Object.freeze({ producer: new RouteIndex(producer), consumers: byNamespace });
}
