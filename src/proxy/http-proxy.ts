// The HTTP request path: listener filters → route → route filters → backend → endpoint → upstream.
// Reads the snapshot once per request; every refusal is a LocalReply with Envoy's flag and details.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterConfig, HttpRouting } from '../config/snapshot.js';
import type { SnapshotStore } from '../config/store.js';
import { LocalReplies } from '../errors/local-reply.js';
import { runRequestHeaders } from '../filters/chain.js';
import type { FilterOutcome } from '../filters/types.js';
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
    const listener = snapshot.listeners.get(conn.listenerKey);
    if (listener === undefined) {
      res.writeHead(404, ['content-length', '0', 'server', 'istio-envoy']).end();
      return;
    }
    this.#inFlight++;
    const headers = upstreamRequestHeaders(req.rawHeaders, req.headers.host ?? listener.service.hostname, connectionTokens(req.headers.connection));
    const ex = new HttpExchange(snapshot, listener, conn, req, res, headers, this.#onDone, !this.#draining);
    // Istio's waypoint rejects HTTP/1.0 with 426 unless HTTP/1.0 is explicitly enabled.
    if (req.httpVersionMinor === 0 && req.httpVersionMajor === 1) return ex.reply(LocalReplies.lowVersion);
    if (ex.path.charCodeAt(0) !== 47 /* '/' */) ex.path = originForm(new RequestView(ex.method, ex.path, req.headers));
    const chain = listener.servicePort.filters;
    if (chain.length === 0) return this.#route(ex);
    this.#continue(ex, runRequestHeaders(chain, ex), this.#route);
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
      return this.#upstream(ex, routing.cluster);
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
    if (target === undefined || target.kind === 'invalid') return ex.reply(LocalReplies.clusterNotFound);
    this.#upstream(ex, target.cluster);
  };

  #upstream(ex: HttpExchange, cluster: ClusterConfig): void {
    ex.clusterId = cluster.id;
    const endpoint = pickEndpoint(cluster, this.#deps.endpoints, this.#deps.random);
    if (endpoint === undefined) return ex.reply(LocalReplies.noHealthyUpstream);
    ex.forward(endpoint);
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
