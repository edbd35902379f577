// Merges the `/debug/stats` of every cluster worker into one view (the dashboard behind a `--workers` primary):
// counts are summed per second and per window, latency percentiles are recomputed from the summed histogram
// buckets each worker ships (`buckets=1`), because percentiles themselves cannot be added.
import type { FailureRecord, SeriesStats, TrafficStats } from '../debug/traffic-stats.js';
import { DEFAULT_FAILURE_CAPACITY } from '../debug/traffic-stats.js';
import { percentile, type SeriesPoints, type SeriesSummary } from '../debug/rolling-series.js';

/** Merges worker stats read with `buckets=1`; `keepBuckets` keeps the merged histograms in the answer. */
export function mergeTrafficStats(parts: ReadonlyArray<TrafficStats>, keepBuckets: boolean): TrafficStats {
  // Each worker reads "the last complete second" on its own clock tick: two reads straddling a second boundary
  // end one second apart. The merged window ends at the latest; the other worker's missing second counts as 0.
  const now = Math.max(...parts.map((p) => p.now));
  const span = Math.max(1, ...parts.map((p) => p.summarySeconds));
  const failures: FailureRecord[] = parts.flatMap((p) => p.failures);
  failures.sort((a, b) => b.time - a.time);
  return {
    now,
    summarySeconds: span,
    total: mergeSeries('total', parts.map((p) => p.total), span, keepBuckets),
    services: mergeKeyed(parts.map((p) => p.services), span, keepBuckets),
    routes: mergeKeyed(parts.map((p) => p.routes), span, keepBuckets),
    // The same bound one worker keeps: the newest failures across the cluster.
    failures: failures.slice(0, DEFAULT_FAILURE_CAPACITY),
    droppedSeries: parts.reduce((n, p) => n + p.droppedSeries, 0),
  };
}

function mergeKeyed(lists: ReadonlyArray<ReadonlyArray<SeriesStats>>, span: number, keepBuckets: boolean): SeriesStats[] {
  const byKey = new Map<string, SeriesStats[]>();
  for (const list of lists) {
    for (const s of list) {
      const group = byKey.get(s.key);
      if (group === undefined) byKey.set(s.key, [s]);
      else group.push(s);
    }
  }
  const out = [...byKey].map(([key, group]) => mergeSeries(key, group, span, keepBuckets));
  // Busiest first, as one worker orders them.
  return out.sort((a, b) => b.summary.requests - a.summary.requests || (a.key < b.key ? -1 : 1));
}

function mergeSeries(key: string, group: ReadonlyArray<SeriesStats>, span: number, keepBuckets: boolean): SeriesStats {
  const summary = mergeSummary(group.map((s) => s.summary), span, keepBuckets);
  const withPoints = group.flatMap((s) => (s.points === undefined ? [] : [s.points]));
  return withPoints.length === 0 ? { key, summary } : { key, summary, points: mergePoints(withPoints, keepBuckets) };
}

function mergeSummary(parts: ReadonlyArray<SeriesSummary>, span: number, keepBuckets: boolean): SeriesSummary {
  let requests = 0;
  let errors = 0;
  let denied = 0;
  const hist: number[] = [];
  for (const p of parts) {
    requests += p.requests;
    errors += p.errors;
    denied += p.denied;
    addInto(hist, p.latency);
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
  return keepBuckets ? { ...summary, latency: hist } : summary;
}

/** Sums the points second by second (aligned on their epoch seconds), then takes percentiles of the sums. */
function mergePoints(parts: ReadonlyArray<SeriesPoints>, keepBuckets: boolean): SeriesPoints {
  const end = Math.max(...parts.map((p) => p.start + p.requests.length));
  const length = Math.max(...parts.map((p) => p.requests.length));
  const start = end - length;
  const requests = new Array<number>(length).fill(0);
  const errors = new Array<number>(length).fill(0);
  const hists: number[][] = Array.from({ length }, () => []);
  for (const p of parts) {
    for (let i = 0; i < p.requests.length; i++) {
      const at = p.start + i - start;
      if (at < 0 || at >= length) continue;
      requests[at] = (requests[at] as number) + (p.requests[i] ?? 0);
      errors[at] = (errors[at] as number) + (p.errors[i] ?? 0);
      addInto(hists[at] as number[], p.latency?.[i]);
    }
  }
  const p50 = hists.map((h, i) => percentile(h, requests[i] as number, 0.5));
  const p99 = hists.map((h, i) => percentile(h, requests[i] as number, 0.99));
  return keepBuckets ? { start, requests, errors, p50, p99, latency: hists } : { start, requests, errors, p50, p99 };
}

function addInto(into: number[], add: ReadonlyArray<number> | undefined): void {
  if (add === undefined) return;
  for (let b = 0; b < add.length; b++) into[b] = (into[b] ?? 0) + (add[b] ?? 0);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
