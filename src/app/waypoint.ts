// Composition root: builds every part, owns start, reload, drain and stop. No request logic here.
import http from 'node:http';
import type { Socket } from 'node:net';
import { adminHandler, boundAddress, type HostPort, listenHttp, metricsHandler } from '../admin/admin-server.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { ConfigPipeline, type ConfigSource, type ReloadOutcome } from '../config/pipeline.js';
import { SnapshotStore } from '../config/store.js';
import { ConnectionHandler } from '../listener/connection-handler.js';
import { Http2Front } from '../listener/http2-front.js';
import { type BindFailure, VipListenerSet } from '../listener/vip-listeners.js';
import type { Logger } from '../observability/logger.js';
import { ProxyMetrics } from '../observability/proxy-metrics.js';
import { TelemetryRuntime, type TelemetryRuntimeOptions } from '../observability/telemetry-runtime.js';
import { type ConnectionContext, ConnectionTable } from '../proxy/connection-context.js';
import type { Duplex } from 'node:stream';
import type { ExchangeObserver } from '../proxy/http-exchange.js';
import { HttpProxy } from '../proxy/http-proxy.js';
import { EndpointRegistry } from '../upstream/endpoint-registry.js';
import type { Random } from '../upstream/load-balancer.js';
import { JwksResolver, type JwksResolverOptions } from '../security/jwt/jwks-resolver.js';
import { warmJwks } from '../security/jwt/jwks-warmup.js';
import { WasmModuleStore, type WasmModuleStoreOptions } from '../wasm/fetch/module-store.js';
import type { WasmFilterFactory } from '../wasm/wasm-plugin-spec.js';
import { WasmRuntime } from '../wasm/host/wasm-runtime.js';
import type { L4ConnectionObserver } from '../l4/connection-record.js';
import { DEFAULT_L4_SETTINGS, L4Proxy, type L4ProxySettings } from '../l4/l4-proxy.js';
import { HboneRuntime, type HboneSettings } from '../hbone/hbone-runtime.js';
import { authorizeL4Connection } from '../security/authz/l4-authorize.js';
import { traceFromSeed, traceSeedOf } from '../debug/decision-trace.js';
import { RequestRing } from '../debug/request-ring.js';
import { TapHub } from '../debug/tap-hub.js';
import { TrafficRecorder } from '../debug/traffic-stats.js';
import { type AdminExposure, adminExposure } from '../admin/admin-exposure.js';
import type { PoolConnector } from '../hbone/upstream-tunnels.js';
import { endpointHealth, OutlierMetrics } from '../upstream/outlier/outlier-report.js';

export interface WaypointOptions {
  readonly source: ConfigSource;
  /** `namespace/name` of the waypoint Gateway (`--waypoint`). */
  readonly waypoint: string | undefined;
  readonly clusterDomain: string;
  /** `--mesh-config` file (MeshConfig YAML or the `istio` ConfigMap). */
  readonly meshConfigFile: string | undefined;
  readonly adminAddress: HostPort;
  readonly metricsAddress: HostPort | undefined;
  /** HBONE (`--hbone-address`): the tunnel listener, bound when `hbone` (the workload identity) is given. */
  readonly hboneAddress: HostPort | undefined;
  /** Workload identity and HBONE settings (`--cert`, `--key`, `--trust-bundle`); without them no HBONE either way. */
  readonly hbone?: HboneSettings;
  readonly connectTimeoutMs: number;
  readonly log: Logger;
  readonly random: Random;
  readonly observer: ExchangeObserver | undefined;
  /** Told when each L4 (TCPRoute/TLSRoute/opaque TCP) connection opens and closes; the record carries its byte counts. */
  readonly l4Observer?: L4ConnectionObserver;
  /** L4 proxy timeouts (idle, ClientHello); Envoy's defaults when absent. */
  readonly l4?: Partial<Omit<L4ProxySettings, 'connectTimeoutMs'>>;
  /** JWKS cache timings (RequestAuthentication); Istio's defaults when absent. */
  readonly jwks?: Partial<Omit<JwksResolverOptions, 'log'>>;
  /** WasmPlugin modules: cache directory and fetch timings (src/wasm/fetch), and the proxy-wasm host that runs them. */
  readonly wasm?: Partial<Pick<WasmModuleStoreOptions, 'cacheDir' | 'timeoutMs' | 'retryMs' | 'maxBytes'>> & { readonly factory?: WasmFilterFactory };
  /** Span batching and TCP reporting intervals (tests shorten them). */
  readonly telemetry?: Partial<Omit<TelemetryRuntimeOptions, 'log' | 'buildTag'>>;
  /** Capacity of the /debug/requests ring of decision traces (default 256; 0 turns recording off). */
  readonly debugRequests?: number;
  /** Dials plain HTTP/1.1 upstream endpoints instead of their addresses (`waypoint explain`'s stub backend). */
  readonly upstreamConnect?: PoolConnector;
  /** Where HTTP/2 (h2c, gRPC) upstream pools connect instead of each endpoint (`waypoint explain`'s stub). */
  readonly upstreamH2Dial?: { readonly address: string; readonly port: number };
}

export class StartupError extends Error {}

const HEADER_LIMIT_BYTES = 60 * 1024; // Envoy's default max_request_headers_kb.
/** istio_build's `tag`. */
const WAYPOINT_VERSION = 'waypoint-0.1.0';

export class Waypoint {
  readonly store = new SnapshotStore();
  /** Recent requests with their decision traces (/debug/requests); undefined when recording is off. */
  readonly requests: RequestRing | undefined;
  /** Live decision-trace stream (/debug/tap); slow readers drop lines, never slow requests. */
  readonly tap = new TapHub();
  /** Rolling per-Service/per-route traffic and recent failures for the dashboard (/debug/stats). */
  readonly traffic = new TrafficRecorder();
  #exposure: AdminExposure | undefined;
  readonly #options: WaypointOptions;
  readonly #pipeline: ConfigPipeline;
  readonly #connections = new ConnectionTable();
  readonly #endpoints: EndpointRegistry;
  readonly #proxy: HttpProxy;
  readonly #http1: http.Server;
  readonly #http2: Http2Front;
  readonly #listeners: VipListenerSet;
  readonly #metrics: ProxyMetrics;
  /** Istio metrics, access logs and spans (src/observability); fed by the exchange and L4 observers. */
  readonly #telemetry: TelemetryRuntime;
  readonly #handler: ConnectionHandler;
  /** Remote JWKS keys outlive snapshots: one cache for the process, handed to every compile. */
  readonly #jwks: JwksResolver;
  /** WasmPlugin modules, fetched outside compile; a module that arrives or fails triggers a reload. */
  readonly #wasmModules: WasmModuleStore;
  /** The proxy-wasm host (src/wasm/host) unless `options.wasm.factory` replaces it; its plugins' metrics are scraped. */
  readonly wasmRuntime: WasmRuntime | undefined;
  readonly #hbone: HboneRuntime | undefined;
  #admin: http.Server | undefined;
  #metricsServer: http.Server | undefined;
  #ready = false;
  #reloading: Promise<ReloadOutcome> | undefined;
  #reloadAgain = false;

  constructor(options: WaypointOptions) {
    this.#options = options;
    this.#jwks = new JwksResolver({ ...options.jwks, log: options.log });
    this.#wasmModules = new WasmModuleStore({ ...options.wasm, log: options.log, onChange: () => void this.reload() });
    this.wasmRuntime = options.wasm?.factory === undefined ? new WasmRuntime({ log: options.log, snapshot: () => this.store.current, endpoints: () => this.#endpoints, random: options.random }) : undefined;
    const wasm = { modules: this.#wasmModules, factory: options.wasm?.factory ?? this.wasmRuntime, hostEnv: process.env };
    this.#pipeline = new ConfigPipeline(options.source, this.store, { waypoint: options.waypoint, clusterDomain: options.clusterDomain, meshConfigFile: options.meshConfigFile, jwks: this.#jwks, wasm });
    this.#hbone = options.hbone === undefined ? undefined : new HboneRuntime(options.hbone, options.log, options.connectTimeoutMs);
    this.#endpoints = new EndpointRegistry({ connectTimeoutMs: options.connectTimeoutMs, idleTimeoutMs: 60_000, ...(this.#hbone === undefined ? {} : { tunnels: this.#hbone.upstreams }), ...(options.upstreamConnect === undefined ? {} : { connect: options.upstreamConnect }), ...(options.upstreamH2Dial === undefined ? {} : { h2Dial: options.upstreamH2Dial }) });
    this.#metrics = new ProxyMetrics({
      activeConnections: () => this.#connections.openCount,
      activeRequests: () => this.#proxy.inFlight,
      listeners: () => this.#listeners.keys.length,
      upstreamEndpoints: () => this.#endpoints.size,
      upstreamPools: () => this.#endpoints.poolStats(),
    });
    this.#telemetry = new TelemetryRuntime({ log: options.log, buildTag: WAYPOINT_VERSION, ...options.telemetry });
    const telemetry = this.#telemetry;
    const observer = options.observer;
    const requests = options.debugRequests === 0 ? undefined : new RequestRing(options.debugRequests);
    this.requests = requests;
    const tap = this.tap;
    const traffic = this.traffic;
    this.#proxy = new HttpProxy({
      store: this.store,
      connections: this.#connections,
      endpoints: this.#endpoints,
      random: options.random,
      observer: (ex) => {
        this.#metrics.requestsTotal++;
        traffic.record(ex);
        telemetry.onExchange(ex);
        if (requests !== undefined || tap.active) {
          // A flat copy only; the trace is built when /debug/requests is read (or now, for a live tap).
          const seed = traceSeedOf(ex, requests?.nextId() ?? 0);
          requests?.push(seed);
          if (tap.active) tap.publish(traceFromSeed(seed));
        }
        observer?.(ex);
      },
    });
    this.#http1 = http.createServer({ maxHeaderSize: HEADER_LIMIT_BYTES, requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 60_000 }, this.#proxy.handle);
    this.#http1.on('clientError', onClientError);
    this.#http1.on('upgrade', this.#proxy.handleUpgrade);
    this.#http2 = new Http2Front(this.#connections, this.#proxy.handle);
    const handler = new ConnectionHandler({
      store: this.store,
      connections: this.#connections,
      http1: this.#http1,
      fastHttp1: { handle: this.#proxy.handle, maxHeadBytes: HEADER_LIMIT_BYTES, idleTimeoutMs: 60_000 },
      http2: this.#http2,
      endpoints: this.#endpoints,
      random: options.random,
      connectTimeoutMs: options.connectTimeoutMs,
      log: (m) => options.log.warn(m),
      l4: new L4Proxy({
        endpoints: this.#endpoints,
        random: options.random,
        settings: { ...DEFAULT_L4_SETTINGS, ...options.l4, connectTimeoutMs: options.connectTimeoutMs },
        observer: (event, record) => {
          telemetry.onL4(event, record);
          options.l4Observer?.(event, record);
        },
        // L4 AuthorizationPolicy enforcement point (src/security/authz/l4-authorize.ts): deny closes the connection.
        authorize: authorizeL4Connection,
      }),
    });
    this.#handler = handler;
    this.#listeners = new VipListenerSet((socket: Socket, key: string) => {
      handler.accept(socket, { listenerKey: key, remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0, sourceNamespace: undefined, peerPrincipal: undefined });
    });
    this.store.subscribe((next) => this.#endpoints.reconcile(next));
    this.store.subscribe((next) => warmJwks(next, this.#jwks));
    this.store.subscribe((next) => this.#wasmModules.reconcile(next.wasm?.requests ?? []));
    this.store.subscribe((next) => telemetry.reconcile(next));
  }

  /**
   * Feeds a connection into the data path as if it had arrived on `ctx.listenerKey`: the entry point
   * for tunnels (HBONE) and for in-process tests that need a client identity.
   */
  accept(stream: Duplex, ctx: ConnectionContext): void {
    this.#handler.accept(stream, ctx);
  }

  get ready(): boolean {
    return this.#ready;
  }

  get adminAddress(): string {
    return this.#admin === undefined ? '' : boundAddress(this.#admin);
  }

  get metricsAddress(): string {
    return this.#metricsServer === undefined ? '' : boundAddress(this.#metricsServer);
  }

  /** The HBONE identity, listener and client, when configured (tests read their counters). */
  get hbone(): HboneRuntime | undefined {
    return this.#hbone;
  }

  /** Loads config, binds admin/metrics and every VIP listener. Throws StartupError on anything fatal. */
  async start(): Promise<void> {
    const log = this.#options.log;
    const deps = { store: this.store, metrics: [this.#metrics, this.#telemetry, new OutlierMetrics(() => this.store.current, () => this.#endpoints.outliers), ...(this.#hbone === undefined ? [] : [this.#hbone.metrics]), ...(this.wasmRuntime === undefined ? [] : [this.wasmRuntime])], ready: () => this.#ready, latestDiagnostics: () => this.#pipeline.diagnostics, endpointHealth: () => endpointHealth(this.store.current, this.#endpoints.outliers), log, tap: this.tap, traffic: this.traffic, exposure: () => this.#exposure, ...(this.requests === undefined ? {} : { requests: this.requests }) };
    this.#admin = await listenHttp(adminHandler(deps), this.#options.adminAddress, 'admin').catch(fail);
    this.#exposure = adminExposure(this.#options.adminAddress.host, this.adminAddress);
    if (this.#exposure.warning !== undefined) log.warn(this.#exposure.warning, { address: this.adminAddress });
    if (this.#options.metricsAddress !== undefined) this.#metricsServer = await listenHttp(metricsHandler(deps), this.#options.metricsAddress, 'metrics').catch(fail);
    const outcome = await this.reload();
    if (outcome.kind !== 'applied') throw new StartupError(`no configuration could be applied:\n${outcome.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n')}`);
    const failures = await this.#bindFailures();
    if (failures.length > 0) throw new StartupError(failures.map((f) => f.message).join('\n'));
    if (this.#hbone !== undefined) {
      const serves = (key: string): boolean => this.store.current?.listeners.has(key) === true;
      await this.#hbone.start(this.#options.hboneAddress, { serves, accept: (stream, ctx) => this.accept(stream, ctx) }).catch(fail);
    } else if (this.#options.hboneAddress !== undefined) log.info('HBONE not started: no workload certificate (--cert, --key, --trust-bundle); VIP listeners serve local traffic');
    this.#ready = true;
    log.info('waypoint ready', { admin: this.adminAddress, metrics: this.metricsAddress || undefined, listeners: this.#listeners.keys.length });
  }

  /** Reloads the config; concurrent calls coalesce into one extra reload. */
  async reload(): Promise<ReloadOutcome> {
    if (this.#reloading !== undefined) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = this.#reloadOnce();
    try {
      let outcome = await this.#reloading;
      while (this.#reloadAgain) {
        this.#reloadAgain = false;
        this.#reloading = this.#reloadOnce();
        outcome = await this.#reloading;
      }
      return outcome;
    } finally {
      this.#reloading = undefined;
    }
  }

  async #reloadOnce(): Promise<ReloadOutcome> {
    const log = this.#options.log;
    const outcome = await this.#pipeline.reload();
    const counts = { error: 0, warning: 0, info: 0 };
    for (const d of outcome.diagnostics) counts[d.severity]++;
    this.#metrics.diagnostics = counts;
    this.#metrics.rejectedResources = rejectedResources(outcome.diagnostics);
    for (const d of outcome.diagnostics) {
      if (d.severity === 'info') log.debug(formatDiagnostic(d));
      else log[d.severity === 'error' ? 'error' : 'warn'](formatDiagnostic(d));
    }
    if (outcome.kind === 'applied') {
      this.#metrics.reloads.applied++;
      log.info('configuration applied', { version: outcome.version, errors: counts.error, warnings: counts.warning });
      if (this.#ready) for (const f of await this.#bindFailures()) log.error(f.message);
    } else {
      this.#metrics.reloads.keptLastGood++;
      log.error('configuration not applied: keeping the last good snapshot', { errors: counts.error });
    }
    return outcome;
  }

  async #bindFailures(): Promise<BindFailure[]> {
    const snapshot = this.store.current;
    return snapshot === undefined ? [] : this.#listeners.reconcile(snapshot);
  }

  /** SIGTERM: readiness fails, listeners stop accepting, in-flight requests finish within `graceMs`. */
  async stop(graceMs: number): Promise<{ readonly drained: boolean }> {
    this.#ready = false;
    await this.#wasmModules.close();
    this.wasmRuntime?.close();
    await this.#listeners.close();
    this.#hbone?.drain();
    this.#http2.drain();
    const drained = await Promise.race([
      this.#proxy.drain().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
    ]);
    this.#http1.closeIdleConnections();
    this.#connections.destroyAll();
    await this.#endpoints.close();
    this.#hbone?.close();
    await this.#jwks.close();
    await Promise.all([closeServer(this.#admin), closeServer(this.#metricsServer)]);
    await this.#telemetry.close();
    this.#metrics.close();
    return { drained };
  }
}

/** Distinct resources named by an error diagnostic: each is rejected whole. */
function rejectedResources(diagnostics: ReadonlyArray<{ readonly severity: string; readonly resource: string | undefined }>): number {
  const names = new Set<string>();
  for (const d of diagnostics) if (d.severity === 'error' && d.resource !== undefined) names.add(d.resource);
  return names.size;
}

function fail(err: unknown): never {
  throw new StartupError(err instanceof Error ? err.message : String(err));
}

function closeServer(server: http.Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Malformed requests get 400, oversized headers 431 (Envoy answers the same), then the connection closes. */
function onClientError(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\nserver: istio-envoy\r\n\r\n`);
}
