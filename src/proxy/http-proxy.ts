// The HTTP request path: listener filters → route → route filters → backend → endpoint → upstream.
// Reads the snapshot once per request; every refusal is a LocalReply with Envoy's flag and details.
import type { IncomingMessage, ServerResponse as NodeServerResponse } from 'node:http';
import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClusterConfig, HttpRouting } from '../config/snapshot.js';
import type { SnapshotStore } from '../config/store.js';
import { LocalReplies } from '../errors/local-reply.js';
import { normalizePath } from '../http/path-normalize.js';
import { authorityOf, type DownstreamRequest, endResponse, type DownstreamResponse, transportOf, writeResponseHead } from '../listener/http2-downstream.js';
import { runRequestHeaders } from '../filters/chain.js';
import type { FilterOutcome } from '../filters/types.js';
import { RequestView } from '../router/request-view.js';
import type { EndpointRegistry } from '../upstream/endpoint-registry.js';
import { pickBackend, type Random } from '../upstream/load-balancer.js';
import type { ConnectionTable } from './connection-context.js';
import { connectionTokens, upstreamRequestHeaders } from './headers.js';
import { type ExchangeObserver, HttpExchange } from './http-exchange.js';
import { clusterUpstreamProtocol } from '../upstream/upstream-protocol.js';
import { selectRoute } from './http-router.js';
import { UpstreamRequest } from './upstream-request.js';
import { DEFAULT_UPSTREAM_POLICY, type UpstreamPolicy } from './upstream-policy.js';
import { WebSocketTunnel } from './websocket-tunnel.js';

export interface HttpProxyDeps {
  readonly store: SnapshotStore;
  readonly connections: ConnectionTable;
  readonly endpoints: EndpointRegistry;
  readonly random: Random;
  readonly observer: ExchangeObserver | undefined;
}

export class HttpProxy {
  readonly #deps: HttpProxyDeps;
  #draining = false;
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  /** HTTP/1.1 upgrade requests in flight and the tunnel each becomes if the backend accepts it. */
  readonly #upgrades = new WeakMap<IncomingMessage, WebSocketTunnel>();

  constructor(deps: HttpProxyDeps) {
    this.#deps = deps;
  }

  /** `request` listener of the HTTP/1.1 and HTTP/2 servers. */
  readonly handle = (req: DownstreamRequest, res: DownstreamResponse): void => {
    const deps = this.#deps;
    const conn = deps.connections.get(transportOf(req));
    const snapshot = deps.store.current;
    if (conn === undefined || snapshot === undefined) {
      res.destroy();
      return;
    }
    const listener = snapshot.listeners.get(conn.listenerKey);
    if (listener === undefined) {
      writeResponseHead(res, 404, ['content-length', '0', 'server', 'istio-envoy']);
      endResponse(res);
      return;
    }
    this.#inFlight++;
    const headers = upstreamRequestHeaders(req.rawHeaders, authorityOf(req) ?? listener.service.hostname, connectionTokens(req.headers.connection));
    const ex = new HttpExchange(snapshot, listener, conn, req, res, headers, this.#onDone, !this.#draining);
    // Istio's waypoint rejects HTTP/1.0 with 426 unless HTTP/1.0 is explicitly enabled.
    if (req.httpVersionMinor === 0 && req.httpVersionMajor === 1) return ex.reply(LocalReplies.lowVersion);
    if (ex.path.charCodeAt(0) !== 47 /* '/' */) ex.path = originForm(new RequestView(ex.method, ex.path, req.headers));
    // Path normalization (MeshConfig pathNormalization, default BASE) before filters and routing; the normalized path goes upstream.
    const normalized = normalizePath(ex.path, snapshot.pathNormalization);
    if (normalized === undefined) return ex.reply(LocalReplies.pathNormalizationFailed);
    ex.path = normalized;
    const chain = listener.servicePort.filters;
    if (chain.length === 0) return this.#route(ex);
    this.#continue(ex, runRequestHeaders(chain, ex), this.#route);
  };

  /**
   * `upgrade` listener of the HTTP/1.1 server. WebSocket upgrades are routed and filtered like any request
   * and, if the backend switches protocols, tunnelled (Istio enables `websocket` upgrades on every route).
   * Other upgrade tokens (e.g. h2c) are ignored, as Envoy does: the request is served as plain HTTP/1.1.
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const res: NodeServerResponse = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    // Node no longer parses this connection: one response, then close.
    res.shouldKeepAlive = false;
    res.once('finish', () => socket.end());
    const protocol = req.headers.upgrade;
    if (protocol !== undefined && protocol.toLowerCase() === 'websocket') this.#upgrades.set(req, new WebSocketTunnel(protocol, res, socket, head));
    this.handle(req, res);
  };

  /** Applies a phase outcome: a local reply ends the request, otherwise `next` runs (after I/O if async). */
  #continue(ex: HttpExchange, outcome: FilterOutcome | Promise<FilterOutcome>, next: (ex: HttpExchange) => void): void {
    if (outcome instanceof Promise) {
      outcome.then(
        (o) => (o === undefined ? next(ex) : ex.reply(o)),
        () => ex.reply(LocalReplies.direct(500, 'filter_failed')),
      );
      return;
    }
    if (outcome === undefined) next(ex);
    else ex.reply(outcome);
  }

  readonly #route = (ex: HttpExchange): void => {
    if (ex.done) return;
    const routing: HttpRouting = ex.listener.servicePort.http;
    if (routing.kind === 'service-default') {
      ex.routeName = 'default';
      return this.#upstream(ex, routing.cluster, DEFAULT_UPSTREAM_POLICY);
    }
    // Filters may have changed headers (e.g. JWT claims copied to headers): route on what they left.
    const headers = ex.requestHeaders.modified ? ex.requestHeaders.toObject() : ex.req.headers;
    const entry = selectRoute(routing, new RequestView(ex.method, ex.path, headers), ex.conn.sourceNamespace);
    if (entry === undefined) return ex.reply(LocalReplies.routeNotFound);
    ex.route = entry;
    ex.routeName = entry.name;
    if (entry.filters.length === 0) return this.#backend(ex);
    this.#continue(ex, runRequestHeaders(entry.filters, ex), this.#backend);
  };

  readonly #backend = (ex: HttpExchange): void => {
    if (ex.done) return;
    const action = ex.route?.action;
    if (action === undefined) return ex.reply(LocalReplies.routeNotFound);
    if (action.kind === 'direct') return ex.reply(LocalReplies.direct(action.status, action.details));
    const target = pickBackend(action.backends, this.#deps.random);
    if (target === undefined || target.kind === 'invalid') return ex.reply(target?.kind === 'invalid' && target.unavailable === true ? LocalReplies.clusterNotFoundUnavailable : LocalReplies.clusterNotFound);
    const policy = action.policy ?? DEFAULT_UPSTREAM_POLICY;
    const filters = target.filters;
    if (filters === undefined || filters.length === 0) return this.#upstream(ex, target.cluster, policy);
    // HTTPBackendRef filters: "executed if and only if the request is being forwarded to the backend".
    ex.backendFilters = filters;
    const cluster = target.cluster;
    this.#continue(ex, runRequestHeaders(filters, ex), (e) => this.#upstream(e, cluster, policy));
  };

  /** Hands the request to the upstream side: attempts, retries and timeouts per the route's policy. */
  #upstream(ex: HttpExchange, cluster: ClusterConfig, policy: UpstreamPolicy): void {
    if (ex.done) return;
    ex.clusterId = cluster.id;
    const tunnel = 'socket' in ex.req ? this.#upgrades.get(ex.req as IncomingMessage) : undefined;
    // The port's protocol, unless a DestinationRule says otherwise (h2UpgradePolicy, useClientProtocol).
    const protocol = clusterUpstreamProtocol(cluster, ex.req.httpVersionMajor, tunnel !== undefined);
    ex.forward(new UpstreamRequest(ex, cluster, protocol, policy, this.#deps, tunnel));
  }

  readonly #onDone = (exchange: HttpExchange): void => {
    this.#inFlight--;
    this.#deps.observer?.(exchange);
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  get inFlight(): number {
    return this.#inFlight;
  }

  /** From now on responses carry `connection: close`; resolves when no request is in flight. */
  drain(): Promise<void> {
    this.#draining = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}

/** An absolute-form request target (`GET http://host/x`) is forwarded in origin form (`/x`). */
function originForm(view: RequestView): string {
  return view.rawQuery === '' ? view.path : `${view.path}?${view.rawQuery}`;
}
