// Merges the `/debug/requests` answers of every cluster worker: one list newest first (by the time each request
// finished), cut to the limit asked for, each trace tagged with the worker that served it (trace ids are per
// worker process, so `worker` + `id` is what identifies a request across the cluster).

/** One worker's `/debug/requests` body, as the admin server writes it. */
export interface WorkerRequests {
  readonly worker: number;
  readonly capacity: number;
  readonly requests: ReadonlyArray<Record<string, unknown>>;
}

export interface MergedRequests {
  /** The sum of the workers' ring capacities (how many requests the cluster remembers). */
  readonly capacity: number;
  readonly requests: ReadonlyArray<Record<string, unknown>>;
}

/**
 * Each worker has already applied the filters (service, status) and the limit to its own ring, so the newest
 * `limit` of the union are among what they returned.
 */
export function mergeRequests(parts: ReadonlyArray<WorkerRequests>, limit: number | undefined): MergedRequests {
  const all = parts.flatMap((p) => p.requests.map((r) => ({ at: timeOf(r), id: typeof r.id === 'number' ? r.id : 0, trace: { ...r, worker: p.worker } })));
  all.sort((a, b) => b.at - a.at || b.id - a.id);
  const kept = limit === undefined ? all : all.slice(0, limit);
  return { capacity: parts.reduce((n, p) => n + p.capacity, 0), requests: kept.map((e) => e.trace) };
}

function timeOf(r: Record<string, unknown>): number {
  const t = typeof r.time === 'string' ? Date.parse(r.time) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}
