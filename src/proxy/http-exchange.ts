// One downstream HTTP request through the waypoint: its pinned snapshot, the request as filters edit it,
// the decisions taken for it, and the upstream handler that streams the response back with backpressure.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { ListenerConfig, RouteEntry, Snapshot } from '../config/snapshot.js';
import type { LocalReply, ResponseFlag } from '../errors/local-reply.js';
import { LocalReplies } from '../errors/local-reply.js';
import { classifyUpstreamError } from '../errors/upstream-errors.js';
import { EMPTY_CHAIN, type FilterChain } from '../filters/types.js';
import { HeaderList } from '../http/header-list.js';
import type { EndpointState } from '../upstream/endpoint-registry.js';
import type { ConnectionContext } from './connection-context.js';
import { responseHeaderList } from './headers.js';
import { writeLocalReply } from './local-reply-writer.js';

/** Called once per request when it is over (access log, metrics, debug ring). */
export type ExchangeObserver = (exchange: HttpExchange) => void;

/** What a validated JWT says about the end user (RequestAuthentication), for authorization. */
export interface RequestAuth {
  /** `iss/sub`. */
  readonly principal: string;
  readonly audiences: ReadonlyArray<string>;
  readonly presenter: string | undefined;
  readonly claims: Readonly<Record<string, unknown>>;
}

export class HttpExchange implements Dispatcher.DispatchHandler {
  readonly snapshot: Snapshot;
  readonly listener: ListenerConfig;
  readonly conn: ConnectionContext;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly startMs: number;
  /** The request as it will be sent upstream; filters edit these. */
  method: string;
  path: string;
  readonly requestHeaders: HeaderList;
  /** Set by the JWT filter when a token was validated. */
  requestAuth: RequestAuth | undefined = undefined;
  /** Route entry chosen (undefined for Service-default routing or before routing). */
  route: RouteEntry | undefined = undefined;
  /** Route entry name (`ns.route.rule`), cluster id and `ip:port` chosen, when routing got that far. */
  routeName: string | undefined = undefined;
  clusterId: string | undefined = undefined;
  upstreamHost: string | undefined = undefined;
  status = 0;
  flag: ResponseFlag | undefined = undefined;
  details = 'via_upstream';
  readonly #observer: ExchangeObserver | undefined;
  readonly #keepAlive: boolean;
  #endpoint: EndpointState | undefined = undefined;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #upstreamStartMs = 0;
  #done = false;

  constructor(
    snapshot: Snapshot,
    listener: ListenerConfig,
    conn: ConnectionContext,
    req: IncomingMessage,
    res: ServerResponse,
    requestHeaders: HeaderList,
    observer: ExchangeObserver | undefined,
    keepAlive: boolean,
  ) {
    this.snapshot = snapshot;
    this.listener = listener;
    this.conn = conn;
    this.req = req;
    this.res = res;
    this.method = req.method ?? 'GET';
    this.path = req.url ?? '/';
    this.requestHeaders = requestHeaders;
    this.startMs = performance.now();
    this.#observer = observer;
    this.#keepAlive = keepAlive;
    res.once('close', this.#onDownstreamClose);
  }

  get done(): boolean {
    return this.#done;
  }

  /** Answers locally (no upstream involved) and finishes the exchange. */
  reply(reply: LocalReply): void {
    if (this.#done) return;
    this.status = reply.status;
    this.flag = reply.flag;
    this.details = reply.details;
    if (!this.#keepAlive) this.res.shouldKeepAlive = false;
    writeLocalReply(this.res, reply);
    this.#finish();
  }

  /** Sends the request to the chosen endpoint's pool, streaming the body both ways. */
  forward(endpoint: EndpointState): void {
    if (this.#done) return;
    this.#endpoint = endpoint;
    this.upstreamHost = endpoint.key;
    endpoint.active++;
    this.#upstreamStartMs = performance.now();
    const req = this.req;
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    endpoint.pool.dispatch({ path: this.path, method: this.method, headers: this.requestHeaders.fields, body: hasBody ? req : null }, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#done) controller.abort(new Error('downstream closed'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx informational responses are not relayed (100-continue is answered by Node).
    this.status = statusCode;
    const res = this.res;
    if (!this.#keepAlive) res.shouldKeepAlive = false;
    const list = responseHeaderList(headers, Math.round(performance.now() - this.#upstreamStartMs));
    this.#runResponseFilters(list);
    res.writeHead(statusCode, list.fields);
    // Flush headers now so slow bodies (streams, long polls) do not hold them back.
    res.flushHeaders();
    if (this.#controller === undefined) this.#controller = controller;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', this.#onDrain);
    }
  }

  onResponseEnd(): void {
    this.res.end();
    this.#finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#done) return;
    if (this.res.headersSent) {
      // Reset after the response started: Envoy resets the downstream stream too.
      this.flag = 'UR';
      this.details = 'upstream_reset_after_response_started';
      this.res.destroy(err);
      this.#finish();
      return;
    }
    const failure = classifyUpstreamError(err);
    this.reply(LocalReplies.upstreamReset(failure.reason, failure.transportFailure));
  }

  /** Encoder order, as Envoy: route filters first, then the listener's chain in reverse. */
  #runResponseFilters(list: HeaderList): void {
    const routeFilters = this.route?.filters ?? EMPTY_CHAIN;
    runResponse(routeFilters, this, list);
    runResponse(this.listener.servicePort.filters, this, list);
  }

  readonly #onDrain = (): void => {
    this.#controller?.resume();
  };

  readonly #onDownstreamClose = (): void => {
    if (this.#done) return;
    // The client went away before the response was complete: stop the upstream request.
    this.flag = 'DC';
    this.details = 'downstream_remote_disconnect';
    if (!this.res.headersSent) this.status = 0;
    this.#controller?.abort(new Error('downstream closed'));
    this.#finish();
  };

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#endpoint !== undefined) this.#endpoint.active--;
    runLog(this.route?.filters ?? EMPTY_CHAIN, this);
    runLog(this.listener.servicePort.filters, this);
    this.#observer?.(this);
  }
}

function runResponse(chain: FilterChain, ex: HttpExchange, list: HeaderList): void {
  for (let i = chain.length - 1; i >= 0; i--) chain[i]?.onResponseHeaders?.(ex, list);
}

function runLog(chain: FilterChain, ex: HttpExchange): void {
  for (let i = 0; i < chain.length; i++) chain[i]?.onLog?.(ex);
}
