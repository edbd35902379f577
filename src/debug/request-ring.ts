// A bounded ring of the most recent requests (`/debug/requests`): fixed capacity, O(1) insert, the oldest
// overwritten. It holds trace seeds (a flat copy taken when each request finished) and builds the decision
// traces only for what a query returns, so recording costs the data path almost nothing.
import { type DecisionTrace, type TraceSeed, traceFromSeed } from './decision-trace.js';

export interface RequestQuery {
  /** `namespace/name`, or just the name. */
  readonly service?: string | undefined;
  /** An exact status (`503`) or a class (`5xx`). */
  readonly status?: string | undefined;
  readonly limit?: number | undefined;
}

export const DEFAULT_RING_CAPACITY = 256;

export class RequestRing {
  readonly capacity: number;
  readonly #slots: Array<TraceSeed | undefined>;
  #next = 0;
  #seq = 0;

  constructor(capacity = DEFAULT_RING_CAPACITY) {
    this.capacity = Math.max(1, Math.floor(capacity));
    this.#slots = new Array<TraceSeed | undefined>(this.capacity).fill(undefined);
  }

  /** The id the next trace gets (monotonic across the process). */
  nextId(): number {
    return ++this.#seq;
  }

  push(seed: TraceSeed): void {
    this.#slots[this.#next] = seed;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Matching traces, newest first. */
  query(q: RequestQuery = {}): DecisionTrace[] {
    const limit = q.limit === undefined ? this.capacity : Math.max(0, q.limit);
    const status = statusMatcher(q.status);
    const out: DecisionTrace[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const t = this.#slots[(this.#next - i + this.capacity) % this.capacity];
      if (t === undefined) break;
      const service = t.listener.service;
      if (q.service !== undefined && service.key !== q.service && service.name !== q.service) continue;
      if (!status(t.status)) continue;
      out.push(traceFromSeed(t));
    }
    return out;
  }
}

function statusMatcher(s: string | undefined): (status: number) => boolean {
  if (s === undefined || s === '') return () => true;
  const cls = /^([1-5])xx$/i.exec(s);
  if (cls !== null) {
    const c = Number(cls[1]);
    return (status) => Math.floor(status / 100) === c;
  }
  const n = Number(s);
  return (status) => status === n;
}
