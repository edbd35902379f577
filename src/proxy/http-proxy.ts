// The HTTP request path: listener config → route → backend → endpoint → upstream exchange.
// Reads the snapshot once per request; every refusal is a LocalReply with Envoy's flag and details.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterConfig } from '../config/snapshot.js';
import type { SnapshotStore } from '../config/store.js';
import { LocalReplies } from '../errors/local-reply.js';
import { RequestView } from '../router/request-view.js';
import type { EndpointRegistry } from '../upstream/endpoint-registry.js';
import { pickBackend, pickEndpoint, type Random } from '../upstream/load-balancer.js';
import type { ConnectionTable } from './connection-context.js';
import { connectionTokens, upstreamRequestHeaders } from './headers.js';
import { type ExchangeObserver, HttpExchange } from './http-exchange.js';
import { selectRoute } from './http-router.js';

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

  constructor(deps: HttpProxyDeps) {
    this.#deps = deps;
  }

  /** `request` listener of the HTTP server. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const deps = this.#deps;
    const conn = deps.connections.get(req.socket);
    const snapshot = deps.store.current;
    if (conn === undefined || snapshot === undefined) {
      res.destroy();
      return;
    }
    this.#inFlight++;
    const exchange = new HttpExchange(snapshot, conn, req, res, this.#onDone, !this.#draining);
    const listener = snapshot.listeners.get(conn.listenerKey);
    if (listener === undefined) return exchange.reply(LocalReplies.filterChainNotFound);
    // Istio's waypoint rejects HTTP/1.0 with 426 unless HTTP/1.0 is explicitly enabled.
    if (req.httpVersionMinor === 0 && req.httpVersionMajor === 1) return exchange.reply(LocalReplies.lowVersion);

    const routing = listener.servicePort.http;
    let cluster: ClusterConfig;
    let path = req.url ?? '/';
    if (routing.kind === 'service-default') {
      cluster = routing.cluster;
      exchange.routeName = 'default';
      if (path.charCodeAt(0) !== 47 /* '/' */) path = originForm(new RequestView(req.method ?? 'GET', path, req.headers));
    } else {
      const view = new RequestView(req.method ?? 'GET', path, req.headers);
      if (path.charCodeAt(0) !== 47) path = originForm(view);
      const entry = selectRoute(routing, view, conn.sourceNamespace);
      if (entry === undefined) return exchange.reply(LocalReplies.routeNotFound);
      exchange.routeName = entry.name;
      const action = entry.action;
      if (action.kind === 'direct') return exchange.reply(LocalReplies.direct(action.status, action.details));
      const target = pickBackend(action.backends, deps.random);
      if (target === undefined || target.kind === 'invalid') return exchange.reply(LocalReplies.clusterNotFound);
      cluster = target.cluster;
    }
    exchange.clusterId = cluster.id;
    const endpoint = pickEndpoint(cluster, deps.endpoints, deps.random);
    if (endpoint === undefined) return exchange.reply(LocalReplies.noHealthyUpstream);
    const host = req.headers.host ?? listener.service.hostname;
    const headers = upstreamRequestHeaders(req.rawHeaders, host, connectionTokens(req.headers.connection));
    exchange.forward(endpoint, path, headers);
  };

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
