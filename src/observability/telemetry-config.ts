// Compiled telemetry configuration (part of the Snapshot): what the runtime needs to report a request,
// resolved from MeshConfig and Telemetry resources at compile time. Immutable; shared by all requests.
import type { AccessLogFormat } from './access-log-format.js';
import type { DestinationLabels, MetricSelection } from './istio-metrics.js';
import type { WorkloadMeta } from './istio-labels.js';

/** An OTLP/HTTP trace exporter target (MeshConfig `extensionProviders[].opentelemetry`). */
export interface TracingProviderConfig {
  readonly name: string;
  /** `http://host:port/v1/traces`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Envoy truncates tag values to `maxTagLength` (default 256). */
  readonly maxTagLength: number;
}

/** A Telemetry `tracing.customTags` entry: a literal, an environment variable or a request header. */
export type CustomTag =
  | { readonly kind: 'literal'; readonly name: string; readonly value: string }
  | { readonly kind: 'header'; readonly name: string; readonly header: string; readonly defaultValue: string | undefined };

export interface TracingPolicy {
  /** Percentage (0-100) of new traces sampled; an incoming decision is kept. */
  readonly samplingPercent: number;
  /** Where spans go; undefined with `disableSpanReporting` (context is still propagated). */
  readonly provider: TracingProviderConfig | undefined;
  /** Span name: Istio's `<service fqdn>:<port>/*`. */
  readonly operation: string;
  readonly customTags: ReadonlyArray<CustomTag>;
  /** Telemetry `enableIstioTags` (default true): the `istio.*` tags on spans. */
  readonly istioTags: boolean;
}

/** Where access log lines of one provider go. */
export interface AccessLogSinkConfig {
  /** File path (`/dev/stdout` for the container log); also the sink's identity. */
  readonly path: string;
}

export interface AccessLogConfig {
  readonly sink: AccessLogSinkConfig;
  readonly format: AccessLogFormat;
  /** Telemetry `accessLogging.filter` compiled to a predicate over the response code; undefined logs everything. */
  readonly filter: ((status: number) => boolean) | undefined;
}

/**
 * Per served Service: the destination when no cluster was chosen, which metrics are recorded and where
 * access logs go. (Tracing is compiled into the port's TracingFilter, which carries its policy per request.)
 */
export interface ServiceTelemetry {
  /** False when neither a metric nor an access log is recorded: untraced requests then skip telemetry. */
  readonly active: boolean;
  readonly destination: DestinationLabels;
  readonly metrics: MetricSelection;
  readonly accessLogs: ReadonlyArray<AccessLogConfig>;
}

/** Per upstream cluster: destination labels of each endpoint, and of the Service when no endpoint was picked. */
export interface ClusterTelemetry {
  readonly service: DestinationLabels;
  readonly endpoints: ReadonlyMap<string, DestinationLabels>;
}

export interface TelemetryConfig {
  readonly clusters: ReadonlyMap<string, ClusterTelemetry>;
  /** Keyed by ServiceConfig key (`namespace/name`). */
  readonly services: ReadonlyMap<string, ServiceTelemetry>;
  /** Pods by IP: the client's metadata when a connection carries no baggage. */
  readonly workloadsByIp: ReadonlyMap<string, WorkloadMeta>;
  /** Every access log sink and tracing provider in use, so the runtime opens and closes them on swap. */
  readonly sinks: ReadonlyArray<AccessLogSinkConfig>;
  readonly providers: ReadonlyArray<TracingProviderConfig>;
  /** `service.name` of exported spans: `<waypoint>.<namespace>`. */
  readonly serviceName: string;
  readonly waypointNamespace: string;
  /** `istio.mesh_id` span tag: the mesh's trust domain (Istio's default mesh id). */
  readonly meshId: string;
}
