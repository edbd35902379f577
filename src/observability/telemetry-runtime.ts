// The runtime half of telemetry: told about every finished HTTP exchange and every L4 connection, it
// records Istio's metrics, writes access logs and exports spans, using what the snapshot compiled
// (label sets, formats, providers). Its mutable state (series, sinks, exporters) outlives snapshots.
import { performance } from 'node:perf_hooks';
import type { Snapshot } from '../config/snapshot.js';
import type { L4ConnectionEvent, L4ConnectionRecord } from '../l4/connection-record.js';
import { grpcStatusForHttp } from '../proxy/grpc-protocol.js';
import type { HttpExchange } from '../proxy/http-exchange.js';
import { AccessLogSink } from './access-log-sink.js';
import type { LogEntry } from './access-log-format.js';
import type { ExpositionWriter, MetricsSource } from './exposition.js';
import { type DestinationLabels, type HttpObservation, IstioMetrics, type TcpSeries } from './istio-metrics.js';
import type { Logger } from './logger.js';
import { SourcePeers } from './source-peer.js';
import { SpanExporters } from './span-export.js';
import type { ServiceTelemetry, TelemetryConfig } from './telemetry-config.js';
import { WireMeter } from './wire-bytes.js';

export interface TelemetryRuntimeOptions {
  readonly log: Logger;
  /** `tag` of istio_build. */
  readonly buildTag: string;
  /** How long spans wait in the batch before export (Envoy flushes every few seconds). */
  readonly spanFlushMs?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** An open L4 connection and what it has reported so far. */
interface TcpTracker {
  series: TcpSeries;
  received: number;
  sent: number;
  readonly service: ServiceTelemetry;
}

export class TelemetryRuntime implements MetricsSource {
  readonly metrics: IstioMetrics;
  readonly #log: Logger;
  readonly #peers = new SourcePeers();
  readonly #sinks = new Map<string, AccessLogSink>();
  readonly #spans: SpanExporters;
  readonly #wire = new WireMeter();
  readonly #tcp = new Map<L4ConnectionRecord, TcpTracker>();
  #current: TelemetryConfig | undefined;
  #errors = 0;
  /** Reused for every request: recording allocates nothing. */
  readonly #observation: Mutable<HttpObservation> = {
    protocol: 'http', status: 0, flag: undefined, grpcStatus: undefined, durationMs: 0, requestBytes: 0, responseBytes: 0, requestMessages: 0, responseMessages: 0,
  };

  constructor(options: TelemetryRuntimeOptions) {
    this.#log = options.log;
    this.metrics = new IstioMetrics(options.buildTag);
    this.#spans = new SpanExporters(options.spanFlushMs ?? 1000);
  }

  /** After a snapshot swap: opens new access log files and span exporters, closes unused ones. */
  reconcile(snapshot: Snapshot): void {
    const t = snapshot.telemetry;
    this.#current = t;
    const wanted = new Set((t?.sinks ?? []).map((s) => s.path));
    for (const [path, sink] of this.#sinks) {
      if (wanted.has(path)) continue;
      this.#sinks.delete(path);
      void sink.close();
    }
    for (const path of wanted) {
      if (this.#sinks.has(path)) continue;
      this.#sinks.set(path, new AccessLogSink(path, (err) => this.#log.error('access log cannot be written', { path, error: err.message })));
    }
    void this.#spans.reconcile(t?.providers ?? []);
  }

  /** ExchangeObserver: one finished HTTP request. Telemetry never fails a request: errors are counted and logged. */
  readonly onExchange = (ex: HttpExchange): void => {
    try {
      this.#observe(ex);
    } catch (err) {
      this.#failed(err);
    }
  };

  #observe(ex: HttpExchange): void {
    const t = ex.snapshot.telemetry;
    const svc = t?.services.get(ex.listener.service.key);
    if (t === undefined || svc === undefined || (!svc.active && ex.trace === undefined)) return;
    const durationMs = performance.now() - ex.startMs;
    const trace = ex.trace;
    const logs = svc.accessLogs;
    const exported = trace !== undefined && trace.sampled && trace.policy.provider !== undefined;
    const wire = this.#wire;
    wire.measure(ex, logs.length > 0 || exported);
    const peer = this.#peers.of(ex.conn, t.workloadsByIp);
    const grpc = ex.grpcMessages;
    const o = this.#observation;
    o.protocol = grpc === undefined ? 'http' : 'grpc';
    o.status = wire.status;
    o.flag = ex.flag;
    // Envoy reads grpc-status from trailers or headers, else maps the HTTP status; none without a response.
    o.grpcStatus = grpc === undefined ? undefined : ex.grpcStatus ?? (ex.status === 0 ? undefined : grpcStatusForHttp(ex.status));
    o.durationMs = durationMs;
    o.requestBytes = wire.requestWire;
    o.responseBytes = wire.responseWire;
    o.requestMessages = grpc?.request.messages ?? 0;
    o.responseMessages = grpc?.response.messages ?? 0;
    this.metrics.recordHttp(peer, destinationOf(t, svc, ex), o, svc.metrics);
    if (logs.length === 0 && !exported) return;
    const startTime = performance.timeOrigin + ex.startMs;
    if (logs.length > 0) {
      const entry: LogEntry = { ex, status: wire.status, startTime, durationMs, bytesReceived: wire.requestBody, bytesSent: wire.responseBody };
      for (const log of logs) {
        if (log.filter !== undefined && !log.filter(wire.status)) continue;
        this.#sinks.get(log.sink.path)?.write(log.format.render(entry));
      }
    }
    if (exported) {
      this.#spans.export(ex, trace, trace.policy.provider, {
        status: wire.status, startTime, durationMs, requestBodyBytes: wire.requestBody, responseBodyBytes: wire.responseBody,
        serviceName: t.serviceName, namespace: t.waypointNamespace, meshId: t.meshId,
      });
    }
  }

  #failed(err: unknown): void {
    this.#errors++;
    // One line per burst: a bug here must not flood the log on every request.
    if (this.#errors === 1 || this.#errors % 10_000 === 0) this.#log.error('telemetry failed for a request or connection', { error: err instanceof Error ? err.stack ?? err.message : String(err), count: this.#errors });
  }

  /** L4ConnectionObserver: istio_tcp_* for TCPRoute/TLSRoute/opaque connections. */
  readonly onL4 = (event: L4ConnectionEvent, record: L4ConnectionRecord): void => {
    try {
      this.#observeL4(event, record);
    } catch (err) {
      this.#failed(err);
    }
  };

  #observeL4(event: L4ConnectionEvent, record: L4ConnectionRecord): void {
    const t = this.#current;
    if (event === 'open') {
      const svc = t?.services.get(record.listener.service.key);
      if (t === undefined || svc === undefined) return;
      const series = this.metrics.tcpSeries(this.#peers.of(record.connection, t.workloadsByIp), l4Destination(t, svc, record), record.responseFlags);
      if (svc.metrics.tcpOpened) series.opened++;
      this.#tcp.set(record, { series, received: 0, sent: 0, service: svc });
      return;
    }
    const tracker = this.#tcp.get(record);
    if (tracker === undefined) return;
    this.#tcp.delete(record);
    // The connection's final flags (e.g. UF,URX after a failed connect) label its close.
    if (record.responseFlags !== undefined && t !== undefined) {
      tracker.series = this.metrics.tcpSeries(this.#peers.of(record.connection, t.workloadsByIp), l4Destination(t, tracker.service, record), record.responseFlags);
    }
    report(tracker, record);
    if (tracker.service.metrics.tcpClosed) tracker.series.closed++;
  }

  /**
   * Envoy pushes open connections' byte deltas every `tcp_reporting_duration` (15 s); metrics here are
   * pulled, so open connections report what they have so far at every scrape instead (and at close).
   */
  readonly #reportTcp = (): void => {
    for (const [record, tracker] of this.#tcp) report(tracker, record);
  };

  collect(w: ExpositionWriter): void {
    this.#reportTcp();
    this.metrics.collect(w);
    w.family('waypoint_telemetry_series', 'gauge', 'Istio metric series held (label sets seen so far).');
    w.sample('waypoint_telemetry_series', '', this.metrics.seriesCount);
    w.family('waypoint_telemetry_source_overflow_total', 'counter', 'Connections reported with unknown source labels because the source label limit was reached.');
    w.sample('waypoint_telemetry_source_overflow_total', '', this.#peers.overflow);
    w.family('waypoint_access_log_lines_total', 'counter', 'Access log lines by result.');
    let written = 0;
    let dropped = 0;
    for (const s of this.#sinks.values()) {
      written += s.written;
      dropped += s.dropped;
    }
    w.sample('waypoint_access_log_lines_total', 'result="written"', written);
    w.sample('waypoint_access_log_lines_total', 'result="dropped"', dropped);
    w.family('waypoint_telemetry_errors_total', 'counter', 'Requests or connections whose telemetry failed (a bug: see the log).');
    w.sample('waypoint_telemetry_errors_total', '', this.#errors);
    w.family('waypoint_trace_spans_total', 'counter', 'Spans handed to OTLP exporters by result.');
    w.sample('waypoint_trace_spans_total', 'result="exported"', this.#spans.counts.exported);
    w.sample('waypoint_trace_spans_total', 'result="failed"', this.#spans.counts.failed);
  }

  /** Flushes access logs and pending spans; used when the waypoint stops. */
  async close(): Promise<void> {
    this.#reportTcp();
    const sinks = [...this.#sinks.values()];
    this.#sinks.clear();
    await Promise.all([...sinks.map((s) => s.close()), this.#spans.close()]);
  }
}

function report(tracker: TcpTracker, record: L4ConnectionRecord): void {
  const on = tracker.service.metrics;
  if (on.tcpReceived) tracker.series.received += record.bytesReceived - tracker.received;
  if (on.tcpSent) tracker.series.sent += record.bytesSent - tracker.sent;
  tracker.received = record.bytesReceived;
  tracker.sent = record.bytesSent;
}

/** The endpoint's labels, else its cluster's (no endpoint picked), else the listener's Service (no cluster). */
function destinationOf(t: TelemetryConfig, svc: ServiceTelemetry, ex: HttpExchange): DestinationLabels {
  const id = ex.clusterId;
  if (id === undefined) return svc.destination;
  const c = t.clusters.get(id);
  if (c === undefined) return svc.destination;
  const host = ex.upstreamHost;
  return host === undefined ? c.service : c.endpoints.get(host) ?? c.service;
}

function l4Destination(t: TelemetryConfig, svc: ServiceTelemetry, record: L4ConnectionRecord): DestinationLabels {
  const c = record.cluster === undefined ? undefined : t.clusters.get(record.cluster.id);
  if (c === undefined) return svc.destination;
  return record.endpoint === undefined ? c.service : c.endpoints.get(record.endpoint.key) ?? c.service;
}
