// A per-second rolling window of request counts, 5xx errors, denials and a latency histogram for one
// service or route. Recording bumps typed-array slots (no allocation); reading walks the window only
// when a dashboard asks for it.

/** Seconds kept; the dashboard charts this much history. */
export const WINDOW_SECONDS = 60;

/** Upper bounds (ms) of the latency buckets; the last is open-ended. Percentiles interpolate inside one. */
export const LATENCY_BOUNDS_MS: ReadonlyArray<number> = [
  0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000, 60000, Infinity,
];
const BUCKETS = LATENCY_BOUNDS_MS.length;

/** One second of the window as the dashboard charts it. */
export interface SeriesPoints {
  /** Epoch second of the first point; points are one second apart, oldest first. */
  readonly start: number;
  readonly requests: number[];
  readonly errors: number[];
  readonly p50: Array<number | null>;
  readonly p99: Array<number | null>;
  /** Per point, the latency bucket counts (bounds LATENCY_BOUNDS_MS, trailing zeros trimmed); only when asked
   *  for, so a cluster primary can merge workers' seconds and take percentiles of the sum. */
  readonly latency?: number[][];
}

/** Totals over the last `seconds` (complete seconds plus the current one). */
export interface SeriesSummary {
  readonly requests: number;
  /** Requests per second over the window. */
  readonly rps: number;
  /** 5xx responses and resets (status 0). */
  readonly errors: number;
  /** 401 and 403 replies (authentication or authorization refused the request). */
  readonly denied: number;
  readonly errorRate: number;
  readonly p50: number | null;
  readonly p99: number | null;
  /** Latency bucket counts over the window (trailing zeros trimmed); only when asked for (see SeriesPoints). */
  readonly latency?: number[];
}

/** Index of the first bound >= ms (binary search: five comparisons whatever the latency). */
export function latencyBucket(ms: number): number {
  let lo = 0;
  let hi = BUCKETS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ms > (LATENCY_BOUNDS_MS[mid] as number)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class RollingSeries {
  readonly #second = new Float64Array(WINDOW_SECONDS).fill(-1);
  readonly #requests = new Uint32Array(WINDOW_SECONDS);
  readonly #errors = new Uint32Array(WINDOW_SECONDS);
  readonly #denied = new Uint32Array(WINDOW_SECONDS);
  readonly #latency = new Uint32Array(WINDOW_SECONDS * BUCKETS);
  /** Epoch second of the latest request recorded (for pruning idle series). */
  lastSecond = -1;

  record(second: number, status: number, latencyMs: number): void {
    const slot = second % WINDOW_SECONDS;
    if (this.#second[slot] !== second) {
      this.#second[slot] = second;
      this.#requests[slot] = 0;
      this.#errors[slot] = 0;
      this.#denied[slot] = 0;
      this.#latency.fill(0, slot * BUCKETS, slot * BUCKETS + BUCKETS);
    }
    bump(this.#requests, slot);
    if (status >= 500 || status === 0) bump(this.#errors, slot);
    else if (status === 401 || status === 403) bump(this.#denied, slot);
    bump(this.#latency, slot * BUCKETS + latencyBucket(latencyMs));
    this.lastSecond = second;
  }

  /** Totals of the `seconds` seconds ending at `now` (inclusive). */
  summary(now: number, seconds: number, buckets = false): SeriesSummary {
    const hist = new Array<number>(BUCKETS).fill(0);
    let requests = 0;
    let errors = 0;
    let denied = 0;
    const span = Math.min(Math.max(1, seconds), WINDOW_SECONDS);
    for (let s = now - span + 1; s <= now; s++) {
      const slot = s % WINDOW_SECONDS;
      if (this.#second[slot] !== s) continue;
      requests += this.#requests[slot] as number;
      errors += this.#errors[slot] as number;
      denied += this.#denied[slot] as number;
      for (let b = 0; b < BUCKETS; b++) hist[b] = (hist[b] as number) + (this.#latency[slot * BUCKETS + b] as number);
    }
    const summary: SeriesSummary = {
      requests,
      rps: round(requests / span),
      errors,
      denied,
      errorRate: requests === 0 ? 0 : round(errors / requests),
      p50: percentile(hist, requests, 0.5),
      p99: percentile(hist, requests, 0.99),
    };
    return buckets ? { ...summary, latency: trimZeros(hist) } : summary;
  }

  /** One point per second for the `seconds` seconds ending at `now`. */
  points(now: number, seconds: number, buckets = false): SeriesPoints {
    const span = Math.min(Math.max(1, seconds), WINDOW_SECONDS);
    const latency: number[][] = [];
    const out: SeriesPoints = buckets ? { start: now - span + 1, requests: [], errors: [], p50: [], p99: [], latency } : { start: now - span + 1, requests: [], errors: [], p50: [], p99: [] };
    const hist = new Array<number>(BUCKETS);
    for (let s = now - span + 1; s <= now; s++) {
      const slot = s % WINDOW_SECONDS;
      if (this.#second[slot] !== s) {
        out.requests.push(0);
        out.errors.push(0);
        out.p50.push(null);
        out.p99.push(null);
        latency.push([]);
        continue;
      }
      const n = this.#requests[slot] as number;
      for (let b = 0; b < BUCKETS; b++) hist[b] = this.#latency[slot * BUCKETS + b] as number;
      out.requests.push(n);
      out.errors.push(this.#errors[slot] as number);
      out.p50.push(percentile(hist, n, 0.5));
      out.p99.push(percentile(hist, n, 0.99));
      latency.push(trimZeros(hist));
    }
    return out;
  }
}

/** The q-quantile of a bucketed histogram, interpolated linearly inside its bucket (as Prometheus does). */
export function percentile(hist: ReadonlyArray<number>, total: number, q: number): number | null {
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    const n = hist[b] as number;
    if (n === 0 || seen + n < rank) {
      seen += n;
      continue;
    }
    const lower = b === 0 ? 0 : (LATENCY_BOUNDS_MS[b - 1] as number);
    const upper = LATENCY_BOUNDS_MS[b] as number;
    // The open-ended bucket has no upper bound: report its lower bound, as histogram_quantile does.
    if (upper === Infinity) return lower;
    return round(lower + ((upper - lower) * (rank - seen)) / n);
  }
  return null;
}

function trimZeros(hist: ReadonlyArray<number>): number[] {
  let end = hist.length;
  while (end > 0 && hist[end - 1] === 0) end--;
  return hist.slice(0, end);
}

function bump(counts: Uint32Array, i: number): void {
  counts[i] = (counts[i] as number) + 1;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
