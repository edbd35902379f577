// The OpenTelemetry JS SDK side of span export: one BatchSpanProcessor + OTLP/HTTP (protobuf) exporter per
// tracing provider, and the span Envoy and Istio tag on a waypoint's server span. Loaded by span-export.ts
// only once a tracing provider is configured: the SDK and exporter weigh some 8 MiB of RSS.
import { type Attributes, type SpanContext, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, type InstrumentationScope, millisToHrTime, TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { HttpExchange } from '../proxy/http-exchange.js';
import type { SpanCounts, SpanFacts } from './span-export.js';
import type { TracingProviderConfig } from './telemetry-config.js';
import type { ActiveTrace } from './trace-filter.js';

const SCOPE: InstrumentationScope = Object.freeze({ name: 'waypoint' });

/** Counts what the OTLP exporter reports back, for the waypoint's own metrics. */
class CountingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #counts: SpanCounts;

  constructor(inner: SpanExporter, counts: SpanCounts) {
    this.#inner = inner;
    this.#counts = counts;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) this.#counts.exported += spans.length;
      else this.#counts.failed += spans.length;
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

export class OtlpSpanProcessors {
  readonly #counts: SpanCounts;
  readonly #processors = new Map<string, { readonly config: TracingProviderConfig; readonly processor: BatchSpanProcessor }>();
  readonly #resources = new Map<string, Resource>();
  readonly #flushMs: number;

  constructor(flushMs: number, counts: SpanCounts) {
    this.#flushMs = flushMs;
    this.#counts = counts;
  }

  /** Opens exporters for new providers; flushes and closes the ones no longer configured. */
  reconcile(providers: ReadonlyArray<TracingProviderConfig>): Promise<void> {
    const wanted = new Map(providers.map((p) => [keyOf(p), p]));
    const closing: Promise<void>[] = [];
    for (const [key, p] of this.#processors) {
      if (wanted.has(key)) continue;
      this.#processors.delete(key);
      closing.push(p.processor.shutdown().catch(() => undefined));
    }
    for (const [key, config] of wanted) {
      if (this.#processors.has(key)) continue;
      const exporter = new OTLPTraceExporter({ url: config.url, headers: { ...config.headers }, timeoutMillis: config.timeoutMs });
      const processor = new BatchSpanProcessor(new CountingExporter(exporter, this.#counts), { scheduledDelayMillis: this.#flushMs, maxQueueSize: 2048, maxExportBatchSize: 512 });
      this.#processors.set(key, { config, processor });
    }
    return Promise.all(closing).then(() => undefined);
  }

  /** Queues the span of a finished, sampled request for export. */
  export(ex: HttpExchange, trace: ActiveTrace, provider: TracingProviderConfig, facts: SpanFacts): void {
    const entry = this.#processors.get(keyOf(provider));
    if (entry === undefined) return;
    entry.processor.onEnd(buildSpan(ex, trace, provider.maxTagLength, facts, this.#resource(facts.serviceName)));
  }

  #resource(serviceName: string): Resource {
    let r = this.#resources.get(serviceName);
    if (r === undefined) this.#resources.set(serviceName, (r = resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName })));
    return r;
  }

  async close(): Promise<void> {
    const all = [...this.#processors.values()];
    this.#processors.clear();
    await Promise.all(all.map((p) => p.processor.shutdown().catch(() => undefined)));
  }
}

function keyOf(p: TracingProviderConfig): string {
  return `${p.name}\u0000${p.url}`;
}

function buildSpan(ex: HttpExchange, trace: ActiveTrace, maxTag: number, f: SpanFacts, resource: Resource): ReadableSpan {
  const traceState = trace.tracestate === undefined ? undefined : new TraceState(trace.tracestate);
  const context: SpanContext = { traceId: trace.traceId, spanId: trace.spanId, traceFlags: TraceFlags.SAMPLED, ...(traceState === undefined ? {} : { traceState }) };
  const parent: SpanContext | undefined = trace.parentSpanId === undefined
    ? undefined
    : { traceId: trace.traceId, spanId: trace.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
  // Envoy tags `error` for 5xx or no response; a gRPC call's own failure is in grpc-status, not here.
  const error = f.status === 0 || f.status >= 500;
  const clip = (v: string): string => (v.length > maxTag ? v.slice(0, maxTag) : v);
  const h = ex.requestHeaders;
  const attributes: Attributes = {
    // Envoy's HttpTracerUtility tags on the downstream (server) span.
    component: 'proxy',
    'node_id': `waypoint~${f.serviceName}`,
    'guid:x-request-id': h.get('x-request-id') ?? '',
    'http.url': clip(`http://${h.get('host') ?? ''}${ex.path}`),
    'http.method': ex.method,
    'downstream_cluster': '-',
    'user_agent': clip(h.get('user-agent') ?? '-'),
    'http.protocol': `HTTP/${ex.req.httpVersion}`,
    'peer.address': ex.conn.remoteAddress,
    'request_size': String(f.requestBodyBytes),
    'response_size': String(f.responseBodyBytes),
    'http.status_code': String(f.status),
    'response_flags': ex.flag ?? '-',
  };
  if (trace.policy.istioTags) {
    // Istio's own tags on proxy spans (Telemetry `enableIstioTags`, on by default).
    attributes['istio.canonical_service'] = f.serviceName.slice(0, f.serviceName.lastIndexOf('.'));
    attributes['istio.canonical_revision'] = 'latest';
    attributes['istio.namespace'] = f.namespace;
    attributes['istio.mesh_id'] = f.meshId;
  }
  if (ex.clusterId !== undefined) {
    attributes['upstream_cluster'] = ex.clusterId;
    attributes['upstream_cluster.name'] = ex.clusterId;
  }
  if (ex.upstreamHost !== undefined) attributes['upstream_address'] = ex.upstreamHost;
  if (error) attributes['error'] = 'true';
  for (const tag of trace.policy.customTags) {
    const v = tag.kind === 'literal' ? tag.value : h.get(tag.header) ?? tag.defaultValue;
    if (v !== undefined) attributes[tag.name] = clip(v);
  }
  const startTime = millisToHrTime(f.startTime);
  const endTime = millisToHrTime(f.startTime + f.durationMs);
  return {
    name: trace.policy.operation,
    kind: SpanKind.SERVER,
    spanContext: () => context,
    ...(parent === undefined ? {} : { parentSpanContext: parent }),
    startTime,
    endTime,
    duration: millisToHrTime(f.durationMs),
    status: error ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.UNSET },
    attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
