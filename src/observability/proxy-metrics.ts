// The waypoint's own health metrics (prefix `waypoint_`): configuration reloads and rejections, load
// (connections, requests, upstream pools) and event-loop saturation, the signal to autoscale a Node
// process on. Istio's standard `istio_*` metrics are in istio-metrics.ts.
import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ExpositionWriter, MetricsSource } from './exposition.js';

export interface PoolTotals {
  readonly connected: number;
  readonly free: number;
  readonly pending: number;
  readonly running: number;
  readonly active: number;
}

export interface ProxyGauges {
  readonly activeConnections: () => number;
  readonly activeRequests: () => number;
  readonly listeners: () => number;
  readonly upstreamEndpoints: () => number;
  readonly upstreamPools?: () => PoolTotals;
}

/** Event-loop utilization is reported over windows of this length (and since start for the counter). */
const ELU_WINDOW_MS = 5000;

export class ProxyMetrics implements MetricsSource {
  readonly #gauges: ProxyGauges;
  readonly reloads = { applied: 0, keptLastGood: 0 };
  diagnostics = { error: 0, warning: 0, info: 0 };
  /** Resources rejected by the latest load (their previous version, if any, keeps serving). */
  rejectedResources = 0;
  requestsTotal = 0;
  readonly #delay: IntervalHistogram;
  readonly #timer: NodeJS.Timeout;
  #elu = performance.eventLoopUtilization();
  #lastWindow = 0;

  constructor(gauges: ProxyGauges) {
    this.#gauges = gauges;
    this.#delay = monitorEventLoopDelay({ resolution: 10 });
    this.#delay.enable();
    this.#timer = setInterval(this.#rollWindow, ELU_WINDOW_MS);
    this.#timer.unref();
  }

  /** Utilization of the last complete window: the share of time the event loop was busy. */
  readonly #rollWindow = (): void => {
    const next = performance.eventLoopUtilization();
    this.#lastWindow = performance.eventLoopUtilization(next, this.#elu).utilization;
    this.#elu = next;
  };

  collect(w: ExpositionWriter): void {
    const g = this.#gauges;
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: ReadonlyArray<readonly [string, number]>): void => {
      w.family(name, type, help);
      for (const [labels, value] of samples) w.sample(name, labels, value);
    };
    metric('waypoint_config_reloads_total', 'counter', 'Configuration reloads by result.', [
      ['result="applied"', this.reloads.applied],
      ['result="kept_last_good"', this.reloads.keptLastGood],
    ]);
    metric('waypoint_config_diagnostics', 'gauge', 'Diagnostics of the latest configuration load by severity.', [
      ['severity="error"', this.diagnostics.error],
      ['severity="warning"', this.diagnostics.warning],
      ['severity="info"', this.diagnostics.info],
    ]);
    metric('waypoint_config_rejected_resources', 'gauge', 'Resources rejected by the latest configuration load.', [['', this.rejectedResources]]);
    metric('waypoint_downstream_connections_active', 'gauge', 'Open downstream connections.', [['', g.activeConnections()]]);
    metric('waypoint_downstream_requests_active', 'gauge', 'HTTP requests in flight.', [['', g.activeRequests()]]);
    metric('waypoint_downstream_requests_total', 'counter', 'HTTP requests completed.', [['', this.requestsTotal]]);
    metric('waypoint_listeners_active', 'gauge', 'Bound VIP listeners.', [['', g.listeners()]]);
    metric('waypoint_upstream_endpoints_active', 'gauge', 'Upstream endpoints with connection pools.', [['', g.upstreamEndpoints()]]);
    const pools = g.upstreamPools?.();
    if (pools !== undefined) {
      metric('waypoint_upstream_connections', 'gauge', 'Upstream HTTP/1.1 pool connections by state.', [
        ['state="busy"', pools.connected - pools.free],
        ['state="idle"', pools.free],
      ]);
      metric('waypoint_upstream_requests_pending', 'gauge', 'Requests queued in upstream pools waiting for a connection.', [['', pools.pending]]);
      metric('waypoint_upstream_requests_active', 'gauge', 'Requests in flight to upstream endpoints.', [['', pools.active]]);
    }
    metric('waypoint_event_loop_utilization', 'gauge', `Share of time the event loop was busy over the last ${ELU_WINDOW_MS / 1000}s window (0-1).`, [['', round(this.#lastWindow)]]);
    metric('waypoint_event_loop_busy_seconds_total', 'counter', 'Time the event loop spent busy since start.', [['', round(performance.eventLoopUtilization().active / 1000)]]);
    // Separate gauges rather than a `quantile` label, which Prometheus reserves for summaries.
    metric('waypoint_event_loop_delay_p50_seconds', 'gauge', 'Median event-loop scheduling delay since start.', [['', this.#delay.percentile(50) / 1e9]]);
    metric('waypoint_event_loop_delay_p99_seconds', 'gauge', '99th percentile event-loop scheduling delay since start.', [['', this.#delay.percentile(99) / 1e9]]);
    metric('waypoint_event_loop_delay_max_seconds', 'gauge', 'Largest event-loop scheduling delay since start.', [['', this.#delay.max / 1e9]]);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#delay.disable();
  }
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
