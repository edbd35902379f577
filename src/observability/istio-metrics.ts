// Istio's standard metrics (reporter="waypoint") for HTTP, gRPC and TCP traffic. Series are looked up
// through objects resolved ahead of time (the connection's source peer, the endpoint's destination labels)
// and small integer keys from closed sets (status, flag, gRPC status, protocol): a request never hashes
// or builds label strings; a label string is built once, when its series first appears.
import type { ExpositionWriter, MetricsSource } from './exposition.js';
import { escapeLabelValue } from './exposition.js';
import type { SecurityPolicy, WorkloadMeta } from './istio-labels.js';

/** Envoy's default histogram buckets, used by Istio for durations (ms) and sizes (bytes) alike. */
export const DEFAULT_BUCKETS: ReadonlyArray<number> = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);
const SLOTS = DEFAULT_BUCKETS.length + 1; // + the +Inf bucket
const BOUNDS = Float64Array.from(DEFAULT_BUCKETS);

/** The client side of a connection, interned: the reporter and source_* labels plus the security policy. */
export interface SourcePeer {
  readonly text: string;
  readonly policy: SecurityPolicy;
  readonly meta: WorkloadMeta;
}

/** Compiled destination_* label text of one endpoint (or of a Service when no endpoint was picked). */
export interface DestinationLabels {
  readonly text: string;
  readonly meta: WorkloadMeta;
}

export type RequestProtocol = 'http' | 'grpc';

/** Which metrics are recorded: Telemetry `metrics.overrides[].disabled` turns some off. */
export interface MetricSelection {
  readonly requestCount: boolean;
  readonly requestDuration: boolean;
  readonly requestSize: boolean;
  readonly responseSize: boolean;
  readonly grpcRequestMessages: boolean;
  readonly grpcResponseMessages: boolean;
  readonly tcpOpened: boolean;
  readonly tcpClosed: boolean;
  readonly tcpSent: boolean;
  readonly tcpReceived: boolean;
}

export const ALL_METRICS: MetricSelection = Object.freeze({
  requestCount: true, requestDuration: true, requestSize: true, responseSize: true, grpcRequestMessages: true,
  grpcResponseMessages: true, tcpOpened: true, tcpClosed: true, tcpSent: true, tcpReceived: true,
});

/** One HTTP/gRPC series: a counter and three histograms sharing one label set. */
export class HttpSeries {
  readonly labels: string;
  readonly grpc: boolean;
  requests = 0;
  requestMessages = 0;
  responseMessages = 0;
  readonly sums = new Float64Array(3);
  /** Per-bucket (not cumulative) counts: duration, request bytes, response bytes. */
  readonly buckets = new Float64Array(SLOTS * 3);

  constructor(labels: string, grpc: boolean) {
    this.labels = labels;
    this.grpc = grpc;
  }

  observe(histogram: 0 | 1 | 2, value: number): void {
    // Binary search for the first bound >= value (Prometheus buckets are `le`, less than or equal).
    let lo = 0;
    let hi = BOUNDS.length; // index BOUNDS.length is the +Inf bucket
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= (BOUNDS[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    this.buckets[histogram * SLOTS + lo]! += 1;
    this.sums[histogram]! += value;
  }
}

/** One TCP series (no response_code / grpc_response_status labels). */
export class TcpSeries {
  readonly labels: string;
  opened = 0;
  closed = 0;
  sent = 0;
  received = 0;

  constructor(labels: string) {
    this.labels = labels;
  }
}

/** Runtime series of one destination label set, shared by every snapshot that compiles to the same text. */
class DestinationSeries {
  readonly text: string;
  readonly http = new Map<SourcePeer, Map<number, HttpSeries>>();
  readonly tcp = new Map<SourcePeer, Map<number, TcpSeries>>();

  constructor(text: string) {
    this.text = text;
  }
}

export interface HttpObservation {
  readonly protocol: RequestProtocol;
  /** 0 when no response was sent. */
  readonly status: number;
  readonly flag: string | undefined;
  /** gRPC status 0-16 for gRPC requests that have one; undefined renders as "". */
  readonly grpcStatus: number | undefined;
  readonly durationMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly requestMessages: number;
  readonly responseMessages: number;
}

export class IstioMetrics implements MetricsSource {
  readonly #byText = new Map<string, DestinationSeries>();
  readonly #byRef = new WeakMap<DestinationLabels, DestinationSeries>();
  readonly #http: HttpSeries[] = [];
  readonly #tcp: TcpSeries[] = [];
  readonly #flags = new Map<string, number>([['-', 0]]);
  readonly #flagNames: string[] = ['-'];
  readonly #build: string;

  constructor(buildTag: string) {
    this.#build = `component="proxy",tag="${escapeLabelValue(buildTag)}"`;
  }

  recordHttp(peer: SourcePeer, dest: DestinationLabels, o: HttpObservation, on: MetricSelection): void {
    const s = this.#httpSeries(peer, dest, o);
    if (on.requestCount) s.requests++;
    if (on.requestDuration) s.observe(0, o.durationMs);
    if (on.requestSize) s.observe(1, o.requestBytes);
    if (on.responseSize) s.observe(2, o.responseBytes);
    if (o.protocol === 'grpc') {
      if (on.grpcRequestMessages) s.requestMessages += o.requestMessages;
      if (on.grpcResponseMessages) s.responseMessages += o.responseMessages;
    }
  }

  /** The TCP series a connection reports to; looked up once per connection (and again if its flag changes). */
  tcpSeries(peer: SourcePeer, dest: DestinationLabels, flag: string | undefined): TcpSeries {
    const d = this.#destination(dest);
    let byKey = d.tcp.get(peer);
    if (byKey === undefined) d.tcp.set(peer, (byKey = new Map()));
    const f = this.#flagIndex(flag);
    let s = byKey.get(f);
    if (s === undefined) {
      s = new TcpSeries(`${peer.text},${d.text},request_protocol="tcp",response_flags="${this.#flagNames[f]}",connection_security_policy="${peer.policy}"`);
      byKey.set(f, s);
      this.#tcp.push(s);
    }
    return s;
  }

  #httpSeries(peer: SourcePeer, dest: DestinationLabels, o: HttpObservation): HttpSeries {
    const d = this.#destination(dest);
    let byKey = d.http.get(peer);
    if (byKey === undefined) d.http.set(peer, (byKey = new Map()));
    const status = o.status >= 0 && o.status < 1000 ? o.status : 0;
    const grpcIndex = o.grpcStatus === undefined ? 0 : o.grpcStatus >= 0 && o.grpcStatus <= 16 ? o.grpcStatus + 1 : 3; // out of range: UNKNOWN (2)
    const flag = this.#flagIndex(o.flag);
    const key = ((status * 64 + flag) * 32 + grpcIndex) * 2 + (o.protocol === 'grpc' ? 1 : 0);
    let s = byKey.get(key);
    if (s === undefined) {
      const grpc = grpcIndex === 0 ? '' : String(grpcIndex - 1);
      s = new HttpSeries(
        `${peer.text},${d.text},request_protocol="${o.protocol}",response_code="${status}",grpc_response_status="${grpc}",response_flags="${this.#flagNames[flag]}",connection_security_policy="${peer.policy}"`,
        o.protocol === 'grpc',
      );
      byKey.set(key, s);
      this.#http.push(s);
    }
    return s;
  }

  #destination(dest: DestinationLabels): DestinationSeries {
    let d = this.#byRef.get(dest);
    if (d !== undefined) return d;
    d = this.#byText.get(dest.text);
    if (d === undefined) this.#byText.set(dest.text, (d = new DestinationSeries(dest.text)));
    this.#byRef.set(dest, d);
    return d;
  }

  /** Response flags are a closed set in code (Envoy's short codes, possibly comma-joined). */
  #flagIndex(flag: string | undefined): number {
    if (flag === undefined || flag === '') return 0;
    let i = this.#flags.get(flag);
    if (i === undefined) {
      i = this.#flagNames.length;
      this.#flags.set(flag, i);
      this.#flagNames.push(escapeLabelValue(flag));
    }
    return i;
  }

  get seriesCount(): number {
    return this.#http.length + this.#tcp.length;
  }

  collect(w: ExpositionWriter): void {
    w.family('istio_build', 'gauge', 'Istio component build info.');
    w.sample('istio_build', this.#build, 1);
    const http = this.#http;
    if (http.length > 0) {
      w.family('istio_requests_total', 'counter', 'Requests handled by the waypoint.');
      for (const s of http) w.sample('istio_requests_total', s.labels, s.requests);
      histogram(w, http, 0, 'istio_request_duration_milliseconds', 'Request duration from the first downstream byte to the last response byte, in milliseconds.');
      histogram(w, http, 1, 'istio_request_bytes', 'Request size received from downstream, in bytes (headers and body).');
      histogram(w, http, 2, 'istio_response_bytes', 'Response size sent downstream, in bytes (headers and body).');
      const grpc = http.filter((s) => s.grpc);
      if (grpc.length > 0) {
        w.family('istio_request_messages_total', 'counter', 'gRPC messages sent by clients.');
        for (const s of grpc) w.sample('istio_request_messages_total', s.labels, s.requestMessages);
        w.family('istio_response_messages_total', 'counter', 'gRPC messages sent by servers.');
        for (const s of grpc) w.sample('istio_response_messages_total', s.labels, s.responseMessages);
      }
    }
    const tcp = this.#tcp;
    if (tcp.length > 0) {
      const counter = (name: string, help: string, value: (s: TcpSeries) => number): void => {
        w.family(name, 'counter', help);
        for (const s of tcp) w.sample(name, s.labels, value(s));
      };
      counter('istio_tcp_sent_bytes_total', 'Bytes sent to downstream on TCP connections.', (s) => s.sent);
      counter('istio_tcp_received_bytes_total', 'Bytes received from downstream on TCP connections.', (s) => s.received);
      counter('istio_tcp_connections_opened_total', 'TCP connections opened.', (s) => s.opened);
      counter('istio_tcp_connections_closed_total', 'TCP connections closed.', (s) => s.closed);
    }
  }
}

function histogram(w: ExpositionWriter, series: ReadonlyArray<HttpSeries>, h: 0 | 1 | 2, name: string, help: string): void {
  w.family(name, 'histogram', help);
  const bucket = `${name}_bucket`;
  for (const s of series) {
    let cumulative = 0;
    for (let i = 0; i < SLOTS; i++) {
      cumulative += s.buckets[h * SLOTS + i] as number;
      const le = i < DEFAULT_BUCKETS.length ? w.bound(DEFAULT_BUCKETS[i] as number) : '+Inf';
      w.sample(bucket, `${s.labels},le="${le}"`, cumulative);
    }
    w.sample(`${name}_sum`, s.labels, s.sums[h] as number);
    w.sample(`${name}_count`, s.labels, cumulative);
  }
}
