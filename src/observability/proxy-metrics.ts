// The waypoint's own health metrics (prefix `waypoint_`), in Prometheus text exposition format.
// Istio's standard `istio_*` metrics are separate.

export interface ProxyGauges {
  readonly activeConnections: () => number;
  readonly activeRequests: () => number;
  readonly listeners: () => number;
  readonly upstreamEndpoints: () => number;
}

export class ProxyMetrics {
  readonly #gauges: ProxyGauges;
  readonly reloads = { applied: 0, keptLastGood: 0 };
  diagnostics = { error: 0, warning: 0, info: 0 };
  requestsTotal = 0;

  constructor(gauges: ProxyGauges) {
    this.#gauges = gauges;
  }

  exposition(): string {
    const g = this.#gauges;
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: ReadonlyArray<[string, number]>): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric('waypoint_config_reloads_total', 'counter', 'Configuration reloads by result.', [
      ['{result="applied"}', this.reloads.applied],
      ['{result="kept_last_good"}', this.reloads.keptLastGood],
    ]);
    metric('waypoint_config_diagnostics', 'gauge', 'Diagnostics of the latest configuration load by severity.', [
      ['{severity="error"}', this.diagnostics.error],
      ['{severity="warning"}', this.diagnostics.warning],
      ['{severity="info"}', this.diagnostics.info],
    ]);
    metric('waypoint_downstream_connections_active', 'gauge', 'Open downstream connections.', [['', g.activeConnections()]]);
    metric('waypoint_downstream_requests_active', 'gauge', 'HTTP requests in flight.', [['', g.activeRequests()]]);
    metric('waypoint_downstream_requests_total', 'counter', 'HTTP requests completed.', [['', this.requestsTotal]]);
    metric('waypoint_listeners_active', 'gauge', 'Bound VIP listeners.', [['', g.listeners()]]);
    metric('waypoint_upstream_endpoints_active', 'gauge', 'Upstream endpoints with connection pools.', [['', g.upstreamEndpoints()]]);
    return `${lines.join('\n')}\n`;
  }
}
