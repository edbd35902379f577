// Live outlier-detection state, read from the detectors kept outside the snapshot: per-endpoint health for
// /config_dump (as Envoy's /clusters shows `failed_outlier_check`) and Envoy's outlier_detection cluster stats
// for /stats/prometheus, aggregated per cluster of the live snapshot at scrape time.
import type { Snapshot } from '../../config/snapshot.js';
import type { ExpositionWriter, MetricsSource } from '../../observability/exposition.js';
import type { OutlierDetectors } from './outlier-detector.js';

export interface EndpointHealth {
  readonly cluster: string;
  readonly endpoints: ReadonlyArray<{
    readonly address: string;
    readonly health: 'healthy' | 'ejected';
    readonly ejectedUntil?: string;
    readonly timesEjected: number;
    readonly consecutive5xx: number;
    readonly consecutiveGatewayErrors: number;
  }>;
}

/** Every cluster with outlierDetection, with the state of each of its endpoints. */
export function endpointHealth(snapshot: Snapshot | undefined, outliers: OutlierDetectors): EndpointHealth[] {
  const out: EndpointHealth[] = [];
  for (const cluster of snapshot?.clusters.values() ?? []) {
    if (cluster.outlier === undefined) continue;
    out.push({
      cluster: cluster.id,
      endpoints: cluster.endpoints.map((e) => {
        const s = outliers.state(e.key);
        return {
          address: e.key,
          health: s?.ejectedUntilMs === undefined ? 'healthy' : 'ejected',
          ...(s?.ejectedUntilMs === undefined ? {} : { ejectedUntil: new Date(s.ejectedUntilMs).toISOString() }),
          timesEjected: s?.timesEjected ?? 0,
          consecutive5xx: s?.consecutive5xx ?? 0,
          consecutiveGatewayErrors: s?.consecutiveGateway ?? 0,
        };
      }),
    });
  }
  return out.sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
}

/**
 * Envoy's `envoy_cluster_outlier_detection_*` families, labelled `cluster_name`, for clusters with outlierDetection.
 * Counters Envoy names without `_total` get it here, as OpenMetrics requires of counter samples.
 */
export class OutlierMetrics implements MetricsSource {
  readonly #snapshot: () => Snapshot | undefined;
  readonly #outliers: () => OutlierDetectors;

  constructor(snapshot: () => Snapshot | undefined, outliers: () => OutlierDetectors) {
    this.#snapshot = snapshot;
    this.#outliers = outliers;
  }

  collect(w: ExpositionWriter): void {
    const rows: Array<{ labels: string; active: number; total: number; c5xx: number; gateway: number; overflow: number }> = [];
    const outliers = this.#outliers();
    for (const cluster of this.#snapshot()?.clusters.values() ?? []) {
      if (cluster.outlier === undefined) continue;
      const row = { labels: `cluster_name="${cluster.id.replace(/["\\\n]/g, '_')}"`, active: 0, total: 0, c5xx: 0, gateway: 0, overflow: 0 };
      for (const e of cluster.endpoints) {
        const s = outliers.state(e.key);
        if (s === undefined) continue;
        if (s.ejectedUntilMs !== undefined) row.active++;
        row.total += s.timesEjected;
        row.c5xx += s.enforced5xx;
        row.gateway += s.enforcedGateway;
        row.overflow += s.overflow;
      }
      rows.push(row);
    }
    if (rows.length === 0) return;
    const family = (name: string, type: 'counter' | 'gauge', help: string, value: (r: (typeof rows)[number]) => number): void => {
      w.family(name, type, help);
      for (const r of rows) w.sample(name, r.labels, value(r));
    };
    family('envoy_cluster_outlier_detection_ejections_active', 'gauge', 'Endpoints currently ejected by outlier detection.', (r) => r.active);
    family('envoy_cluster_outlier_detection_ejections_enforced_total', 'counter', 'Ejections enforced by outlier detection.', (r) => r.total);
    family('envoy_cluster_outlier_detection_ejections_enforced_consecutive_5xx_total', 'counter', 'Ejections enforced for consecutive 5xx.', (r) => r.c5xx);
    family('envoy_cluster_outlier_detection_ejections_enforced_consecutive_gateway_failure_total', 'counter', 'Ejections enforced for consecutive gateway failures.', (r) => r.gateway);
    family('envoy_cluster_outlier_detection_ejections_overflow_total', 'counter', 'Ejections refused by maxEjectionPercent.', (r) => r.overflow);
  }
}
