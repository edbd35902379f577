// Live traffic for the dashboard: a rolling window per Service and per route rule, and a bounded ring of
// recent failed or denied requests. `record` runs in the log phase (slot bumps, one small object only for
// failures); everything else runs only when /debug/stats is read, at most once a second whoever asks.
import { performance } from 'node:perf_hooks';
import type { HttpExchange } from '../proxy/http-exchange.js';
import { authzVerdict, routeLabel } from '../proxy/decision-header.js';
import { redactPath } from './redact.js';
import { RollingSeries, type SeriesPoints, type SeriesSummary, WINDOW_SECONDS } from './rolling-series.js';

/** A failed or refused request as the dashboard lists it. */
export interface FailureRecord {
  /** Epoch ms when the response finished. */
  readonly time: number;
  readonly service: string;
  /** `ns/name#ruleN`, `service-default`, or `-` when the request was refused before routing. */
  readonly route: string;
  readonly method: string;
  readonly path: string;
  /** SPIFFE ID of the peer, else its address. */
  readonly source: string;
  readonly status: number;
  readonly flags: string;
  readonly details: string;
  /** What authorization decided (`deny:ns/policy#rule0`, `deny:no-allow-match`, `deny:jwt`, `-`). */
  readonly authz: string;
}

export interface SeriesStats {
  readonly key: string;
  readonly summary: SeriesSummary;
  readonly points?: SeriesPoints;
}

export interface TrafficStats {
  /** Epoch second the window ends at (the last complete second). */
  readonly now: number;
  /** Seconds each summary covers. */
  readonly summarySeconds: number;
  /** Every request the waypoint answered. */
  readonly total: SeriesStats;
  readonly services: ReadonlyArray<SeriesStats>;
  readonly routes: ReadonlyArray<SeriesStats>;
  /** Newest first. */
  readonly failures: ReadonlyArray<FailureRecord>;
  /** Series not tracked because the limit was reached. */
  readonly droppedSeries: number;
}

export const DEFAULT_FAILURE_CAPACITY = 100;
/** Epoch ms of performance.now()'s zero, read once (the getter is not free). */
const TIME_ORIGIN = performance.timeOrigin;
/** Series are keyed by config names, so this only bounds memory against pathological configs. */
export const MAX_SERIES = 2000;

export class TrafficRecorder {
  readonly #total = new RollingSeries();
  readonly #services = new Map<string, RollingSeries>();
  readonly #routes = new Map<string, RollingSeries>();
  readonly #failures: Array<FailureRecord | undefined>;
  #next = 0;
  #droppedSeries = 0;

  constructor(failureCapacity = DEFAULT_FAILURE_CAPACITY) {
    this.#failures = new Array<FailureRecord | undefined>(Math.max(1, failureCapacity)).fill(undefined);
  }

  /** Log phase of every exchange. */
  record(ex: HttpExchange): void {
    // One monotonic clock read gives both the latency and the epoch second (TIME_ORIGIN is epoch ms).
    const t = performance.now();
    const nowMs = TIME_ORIGIN + t;
    const second = Math.floor(nowMs / 1000);
    const latency = t - ex.startMs;
    const status = ex.status;
    this.#total.record(second, status, latency);
    this.#series(this.#services, ex.listener.service.key)?.record(second, status, latency);
    const route = ex.route;
    if (route !== undefined) this.#series(this.#routes, route.name)?.record(second, status, latency);
    if (status >= 400 || status === 0 || ex.flag !== undefined) this.#pushFailure(ex, nowMs);
  }

  #series(map: Map<string, RollingSeries>, key: string): RollingSeries | undefined {
    let s = map.get(key);
    if (s === undefined) {
      if (this.#services.size + this.#routes.size >= MAX_SERIES) {
        this.#droppedSeries++;
        return undefined;
      }
      s = new RollingSeries();
      map.set(key, s);
    }
    return s;
  }

  #pushFailure(ex: HttpExchange, time: number): void {
    this.#failures[this.#next] = {
      time,
      service: ex.listener.service.key,
      route: routeLabel(ex),
      method: ex.req.method ?? ex.method,
      // The path as the client sent it; redacted when read.
      path: ex.req.url ?? ex.path,
      source: ex.conn.peerPrincipal ?? ex.conn.remoteAddress,
      status: ex.status,
      flags: ex.flag ?? '-',
      details: ex.details,
      authz: authzVerdict(ex),
    };
    this.#next = (this.#next + 1) % this.#failures.length;
  }

  /** Stats ending now: summaries over `summarySeconds`, per-second points for `pointSeconds` (0: none);
   *  `buckets` adds the latency histograms behind the percentiles (for merging across cluster workers). */
  read(summarySeconds: number, pointSeconds: number, buckets = false): TrafficStats {
    // The window ends at the last complete second: the current one is still filling and would read low.
    const now = Math.floor((TIME_ORIGIN + performance.now()) / 1000) - 1;
    const span = Math.min(Math.max(1, summarySeconds), WINDOW_SECONDS);
    const points = Math.min(Math.max(0, pointSeconds), WINDOW_SECONDS);
    return {
      now,
      summarySeconds: span,
      total: points === 0 ? { key: 'total', summary: this.#total.summary(now, span, buckets) } : { key: 'total', summary: this.#total.summary(now, span, buckets), points: this.#total.points(now, points, buckets) },
      services: readSeries(this.#services, now, span, points, buckets),
      routes: readSeries(this.#routes, now, span, points, buckets),
      failures: this.#recentFailures(),
      droppedSeries: this.#droppedSeries,
    };
  }

  #recentFailures(): FailureRecord[] {
    const out: FailureRecord[] = [];
    const n = this.#failures.length;
    for (let i = 1; i <= n; i++) {
      const f = this.#failures[(this.#next - i + n) % n];
      if (f === undefined) break;
      out.push({ ...f, path: redactPath(f.path) });
    }
    return out;
  }
}

/** Series with traffic in the window, busiest first; series idle for a whole window are forgotten. */
function readSeries(map: Map<string, RollingSeries>, now: number, span: number, points: number, buckets: boolean): SeriesStats[] {
  const out: SeriesStats[] = [];
  for (const [key, s] of map) {
    if (s.lastSecond <= now - WINDOW_SECONDS) {
      map.delete(key);
      continue;
    }
    out.push(points === 0 ? { key, summary: s.summary(now, span, buckets) } : { key, summary: s.summary(now, span, buckets), points: s.points(now, points, buckets) });
  }
  return out.sort((a, b) => b.summary.requests - a.summary.requests || (a.key < b.key ? -1 : 1));
}
