// Cluster circuit breakers (DestinationRule connectionPool.http.http2MaxRequests, Envoy's max_requests): requests
// in flight per cluster, kept outside the snapshot and keyed by the stable cluster id. Over the limit: 503 `UO`.

export class CircuitBreakers {
  readonly #active = new Map<string, number>();
  /** Requests refused per cluster since start (visible in /config_dump-style debug output and tests). */
  readonly #overflows = new Map<string, number>();

  /** Takes one request slot; false (and counted as an overflow) when `max` are already in flight. */
  tryAcquire(clusterId: string, max: number): boolean {
    const n = this.#active.get(clusterId) ?? 0;
    if (n >= max) {
      this.#overflows.set(clusterId, (this.#overflows.get(clusterId) ?? 0) + 1);
      return false;
    }
    this.#active.set(clusterId, n + 1);
    return true;
  }

  release(clusterId: string): void {
    const n = this.#active.get(clusterId) ?? 0;
    if (n <= 1) this.#active.delete(clusterId);
    else this.#active.set(clusterId, n - 1);
  }

  active(clusterId: string): number {
    return this.#active.get(clusterId) ?? 0;
  }

  overflows(clusterId: string): number {
    return this.#overflows.get(clusterId) ?? 0;
  }
}
