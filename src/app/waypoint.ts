// Composition root: builds every part, owns start, reload, drain and stop. No request logic here.
import http from 'node:http';
import type { Socket } from 'node:net';
import { adminHandler, boundAddress, type HostPort, listenHttp, metricsHandler } from '../admin/admin-server.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { ConfigPipeline, type ConfigSource, type ReloadOutcome } from '../config/pipeline.js';
import { SnapshotStore } from '../config/store.js';
import { ConnectionHandler } from '../listener/connection-handler.js';
import { type BindFailure, VipListenerSet } from '../listener/vip-listeners.js';
import type { Logger } from '../observability/logger.js';
import { ProxyMetrics } from '../observability/proxy-metrics.js';
import { type ConnectionContext, ConnectionTable } from '../proxy/connection-context.js';
import type { Duplex } from 'node:stream';
import type { ExchangeObserver } from '../proxy/http-exchange.js';
import { HttpProxy } from '../proxy/http-proxy.js';
import { EndpointRegistry } from '../upstream/endpoint-registry.js';
import type { Random } from '../upstream/load-balancer.js';

export interface WaypointOptions {
  readonly source: ConfigSource;
  /** `namespace/name` of the waypoint Gateway (`--waypoint`). */
  readonly waypoint: string | undefined;
  readonly clusterDomain: string;
  /** `--mesh-config` file (MeshConfig YAML or the `istio` ConfigMap). */
  readonly meshConfigFile: string | undefined;
  readonly adminAddress: HostPort;
  readonly metricsAddress: HostPort | undefined;
  /** HBONE (`--hbone-address`): the tunnel listener feeds ConnectionHandler.accept; not bound yet. */
  readonly hboneAddress: HostPort | undefined;
  readonly connectTimeoutMs: number;
  readonly log: Logger;
  readonly random: Random;
  readonly observer: ExchangeObserver | undefined;
}

export class StartupError extends Error {}

const HEADER_LIMIT_BYTES = 60 * 1024; // Envoy's default max_request_headers_kb.

export class Waypoint {
  readonly store = new SnapshotStore();
  readonly #options: WaypointOptions;
  readonly #pipeline: ConfigPipeline;
  readonly #connections = new ConnectionTable();
  readonly #endpoints: EndpointRegistry;
  readonly #proxy: HttpProxy;
  readonly #http1: http.Server;
  readonly #listeners: VipListenerSet;
  readonly #metrics: ProxyMetrics;
  readonly #handler: ConnectionHandler;
  #admin: http.Server | undefined;
  #metricsServer: http.Server | undefined;
  #ready = false;
  #reloading: Promise<ReloadOutcome> | undefined;
  #reloadAgain = false;

  constructor(options: WaypointOptions) {
    this.#options = options;
    this.#pipeline = new ConfigPipeline(options.source, this.store, { waypoint: options.waypoint, clusterDomain: options.clusterDomain, meshConfigFile: options.meshConfigFile });
    this.#endpoints = new EndpointRegistry({ connectTimeoutMs: options.connectTimeoutMs, idleTimeoutMs: 60_000 });
    this.#metrics = new ProxyMetrics({
      activeConnections: () => this.#connections.openCount,
      activeRequests: () => this.#proxy.inFlight,
      listeners: () => this.#listeners.keys.length,
      upstreamEndpoints: () => this.#endpoints.size,
    });
    const observer = options.observer;
    this.#proxy = new HttpProxy({
      store: this.store,
      connections: this.#connections,
      endpoints: this.#endpoints,
      random: options.random,
      observer: (ex) => {
        this.#metrics.requestsTotal++;
        observer?.(ex);
      },
    });
    this.#http1 = http.createServer({ maxHeaderSize: HEADER_LIMIT_BYTES, requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 60_000 }, this.#proxy.handle);
    this.#http1.on('clientError', onClientError);
    const handler = new ConnectionHandler({
      store: this.store,
      connections: this.#connections,
      http1: this.#http1,
      endpoints: this.#endpoints,
      random: options.random,
      connectTimeoutMs: options.connectTimeoutMs,
      log: (m) => options.log.warn(m),
    });
    this.#handler = handler;
    this.#listeners = new VipListenerSet((socket: Socket, key: string) => {
      handler.accept(socket, { listenerKey: key, remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0, sourceNamespace: undefined, peerPrincipal: undefined });
    });
    this.store.subscribe((next) => this.#endpoints.reconcile(next));
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

  /** Loads config, binds admin/metrics and every VIP listener. Throws StartupError on anything fatal. */
  async start(): Promise<void> {
    const log = this.#options.log;
    const deps = { store: this.store, metrics: this.#metrics, ready: () => this.#ready, latestDiagnostics: () => this.#pipeline.diagnostics };
    this.#admin = await listenHttp(adminHandler(deps), this.#options.adminAddress, 'admin').catch(fail);
    if (!isLoopback(this.#options.adminAddress.host)) log.warn('admin server is NOT bound to loopback: anyone who can reach it can read the configuration', { address: this.adminAddress });
    if (this.#options.metricsAddress !== undefined) this.#metricsServer = await listenHttp(metricsHandler(deps), this.#options.metricsAddress, 'metrics').catch(fail);
    const outcome = await this.reload();
    if (outcome.kind !== 'applied') throw new StartupError(`no configuration could be applied:\n${outcome.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n')}`);
    const failures = await this.#bindFailures();
    if (failures.length > 0) throw new StartupError(failures.map((f) => f.message).join('\n'));
    if (this.#options.hboneAddress !== undefined) log.info('HBONE listener not started: tunnel termination is not available in this build; VIP listeners serve local traffic');
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
    await this.#listeners.close();
    const drained = await Promise.race([
      this.#proxy.drain().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
    ]);
    this.#http1.closeIdleConnections();
    this.#connections.destroyAll();
    await this.#endpoints.close();
    await Promise.all([closeServer(this.#admin), closeServer(this.#metricsServer)]);
    return { drained };
  }
}

function fail(err: unknown): never {
  throw new StartupError(err instanceof Error ? err.message : String(err));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
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
