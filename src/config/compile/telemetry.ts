// Compiles the snapshot's telemetry: per served Service what is recorded, logged and traced (from
// TelemetryPolicy), destination_* labels per cluster endpoint, and client workloads by Pod IP. Also
// provides the tracing filter stage, which runs first on every port that traces.
import { UNKNOWN_WORKLOAD } from '../../observability/istio-labels.js';
import type { AccessLogSinkConfig, ServiceTelemetry, TelemetryConfig } from '../../observability/telemetry-config.js';
import { IdGenerator } from '../../observability/trace-context.js';
import { TracingFilter } from '../../observability/trace-filter.js';
import type { Diagnostic } from '../diagnostics.js';
import type { ClusterConfig, ServiceConfig } from '../snapshot.js';
import type { FilterStage } from './port-filters.js';
import { TelemetryPolicy, type TelemetryPolicyInput } from './telemetry-policy.js';
import { DEFAULT_CLUSTER_ID, destinationLabelsFor, destinationTables, workloadsByIp } from './telemetry-workloads.js';

export class TelemetryCompiler {
  readonly policy: TelemetryPolicy;
  readonly #input: TelemetryPolicyInput;
  readonly #ids = new IdGenerator();

  constructor(input: TelemetryPolicyInput, diagnostics: Diagnostic[]) {
    this.#input = input;
    this.policy = new TelemetryPolicy(input, diagnostics);
  }

  /**
   * The tracing stage: Envoy traces in the connection manager, around every HTTP filter, so this stage is
   * registered before the others and a request denied by a later filter still has a span.
   */
  readonly tracingStage: FilterStage = (input) => {
    const settings = this.policy.forService(input.service.key).tracing;
    if (settings === undefined) return [];
    return [new TracingFilter({ ...settings, operation: `${input.service.hostname}:${input.port}/*` }, this.#ids, Math.random)];
  };

  build(services: ReadonlyMap<string, ServiceConfig>, clusters: ReadonlyMap<string, ClusterConfig>): TelemetryConfig {
    const { mesh, resources, waypoint } = this.#input;
    const tables = destinationTables(clusters.values(), resources.pods, mesh.trustDomain, DEFAULT_CLUSTER_ID);
    const perService = new Map<string, ServiceTelemetry>();
    const sinks = new Map<string, AccessLogSinkConfig>();
    for (const svc of services.values()) {
      const effective = this.policy.forService(svc.key);
      for (const log of effective.accessLogs) if (!sinks.has(log.sink.path)) sinks.set(log.sink.path, log.sink);
      perService.set(svc.key, Object.freeze({
        active: effective.accessLogs.length > 0 || Object.values(effective.metrics).some((on) => on),
        destination: destinationLabelsFor(UNKNOWN_WORKLOAD, { hostname: svc.hostname, name: svc.name, namespace: svc.namespace }, DEFAULT_CLUSTER_ID),
        metrics: effective.metrics,
        accessLogs: effective.accessLogs,
      }));
    }
    const { name, namespace } = waypoint.raw.metadata;
    return Object.freeze({
      clusters: tables,
      services: perService,
      workloadsByIp: workloadsByIp(resources.pods, mesh.trustDomain, DEFAULT_CLUSTER_ID),
      sinks: Object.freeze([...sinks.values()]),
      providers: Object.freeze(this.policy.providers),
      serviceName: `${name}.${namespace}`,
      waypointNamespace: namespace,
      meshId: mesh.trustDomain,
    });
  }
}
