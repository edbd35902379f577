// Runtime load-balancer state kept outside the snapshot and keyed by the stable cluster id, so a config
// reload does not reset it: the ROUND_ROBIN cursor of each cluster.

export class LbRuntime {
  readonly #cursors = new Map<string, number>();

  /** The next round-robin index in [0, n) for the cluster. */
  nextRoundRobin(clusterId: string, n: number): number {
    const cur = this.#cursors.get(clusterId) ?? 0;
    this.#cursors.set(clusterId, (cur + 1) % 1_000_000_007);
    return cur % n;
  }

  /** Drops the state of clusters that no longer exist. */
  retain(live: ReadonlySet<string>): void {
    for (const id of this.#cursors.keys()) if (!live.has(id)) this.#cursors.delete(id);
  }
}
