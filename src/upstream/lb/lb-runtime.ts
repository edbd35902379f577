// Runtime load-balancer state kept outside the snapshot and keyed by the stable cluster id, so a config
// reload does not reset it: the ROUND_ROBIN cursor of each cluster, and when each endpoint joined a cluster
// that uses slow start (slow-start.ts).
import type { ClusterConfig } from '../../config/snapshot.js';

export class LbRuntime {
  readonly #cursors = new Map<string, number>();
  /** Slow-start clusters: endpoint key → ms it joined (0: present when the cluster appeared, not warming). */
  readonly #joined = new Map<string, Map<string, number>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The next round-robin index in [0, n) for the cluster. */
  nextRoundRobin(clusterId: string, n: number): number {
    const cur = this.#cursors.get(clusterId) ?? 0;
    this.#cursors.set(clusterId, (cur + 1) % 1_000_000_007);
    return cur % n;
  }

  now(): number {
    return this.#now();
  }

  /** When `endpoint` joined the slow-start cluster (0: not warming). */
  joinedAt(clusterId: string, endpoint: string): number {
    return this.#joined.get(clusterId)?.get(endpoint) ?? 0;
  }

  /** After a swap: records endpoints that joined slow-start clusters since the last snapshot. */
  track(clusters: Iterable<ClusterConfig>): void {
    const now = this.#now();
    for (const c of clusters) {
      const warm = c.lb?.kind === 'round-robin' || c.lb?.kind === 'least-request' ? c.lb.warmup : undefined;
      if (warm === undefined) {
        this.#joined.delete(c.id);
        continue;
      }
      const known = this.#joined.get(c.id);
      const next = new Map<string, number>();
      for (const e of c.endpoints) next.set(e.key, known === undefined ? 0 : known.get(e.key) ?? now);
      this.#joined.set(c.id, next);
    }
  }

  /** Drops the state of clusters that no longer exist. */
  retain(live: ReadonlySet<string>): void {
    for (const id of this.#cursors.keys()) if (!live.has(id)) this.#cursors.delete(id);
    for (const id of this.#joined.keys()) if (!live.has(id)) this.#joined.delete(id);
  }
}
