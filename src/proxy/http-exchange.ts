// One downstream HTTP request through the waypoint: its pinned snapshot, the request as filters edit it,
// the decisions taken for it, and the upstream handler that streams the response back with backpressure.
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { ListenerConfig, RouteEntry, Snapshot } from '../config/snapshot.js';
import type { LocalReply, ResponseFlag } from '../errors/local-reply.js';
import { LocalReplies } from '../errors/local-reply.js';
import { classifyUpstreamError } from '../errors/upstream-errors.js';
import { EMPTY_CHAIN, type FilterChain } from '../filters/types.js';
import { BodyPipeline, bodyStages } from '../filters/body-pipeline.js';
import { filteredRequestBody } from '../filters/request-body-filter.js';
import { applyResponseTrailerFilters } from '../filters/trailer-phase.js';
import { ResponseHeadersPause } from '../filters/response-headers-pause.js';
import { ResponseHold } from '../filters/response-hold.js';
import { GrpcMessageCounts } from '../observability/grpc-messages.js';
import type { ActiveTrace } from '../observability/trace-filter.js';
import { HeaderList } from '../http/header-list.js';
import {
  acceptsTrailers, type DownstreamRequest, endResponse, onceResponse, requestBodySource, writeResponseBody, type DownstreamResponse, isH2Response, resetDownstream, writeHeadersOnly,
  writeResponseHead,
} from '../listener/http2-downstream.js';
import type { MirrorTarget } from '../filters/route/request-mirror.js';
import type { ConnectionContext } from './connection-context.js';
import { grpcRouteReply } from './grpc-local-reply.js';
import { grpcStatusForHttp, isGrpcContentType, parseGrpcTimeout } from './grpc-protocol.js';
import { responseHeaderList } from './headers.js';
import { writeLocalReply } from './local-reply-writer.js';
import { withRouteResponseHeaders } from './route-reply-headers.js';
import { decisionHeaderOnResponse, withDecisionHeader } from './decision-header.js';
import type { RbacDecision } from '../security/authz/rbac-engine.js';

/** Called once per request when it is over (access log, metrics, debug ring). */
export type ExchangeObserver = (exchange: HttpExchange) => void;

/** The upstream side of an exchange (proxy/upstream-request.ts): attempts, retries, timeouts. */
export interface UpstreamHandle {
  start(): void;
  /** The downstream is gone or out of time: stop every attempt and timer. */
  cancel(): void;
}

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
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  readonly startMs: number;
  /** The request as it will be sent upstream; filters edit these. */
  method: string;
  path: string;
  readonly requestHeaders: HeaderList;
  /** Set by the JWT filter when a token was validated. */
  requestAuth: RequestAuth | undefined = undefined;
  /** What the RBAC filter decided, when it ran (the x-waypoint-decision header and the dashboard name the rule). */
  rbacDecision: RbacDecision | undefined = undefined;
  /** Route entry chosen (undefined for Service-default routing or before routing). */
  route: RouteEntry | undefined = undefined;
  /** Route entry name (`ns.route.rule`), cluster id and `ip:port` chosen, when routing got that far. */
  routeName: string | undefined = undefined;
  clusterId: string | undefined = undefined;
  upstreamHost: string | undefined = undefined;
  status = 0;
  flag: ResponseFlag | undefined = undefined;
  details = 'via_upstream';
  /** Response body bytes written downstream (Envoy's %BYTES_SENT%). */
  responseBodyBytes = 0;
  /** ms from sending upstream to its response headers (`x-envoy-upstream-service-time`), once known. */
  upstreamServiceTimeMs: number | undefined = undefined;
  /** `grpc-status` from the upstream's trailers (or Trailers-Only headers), when one came. */
  grpcStatus: number | undefined = undefined;
  /** gRPC requests only: messages counted each way (istio_request/response_messages_total). */
  readonly grpcMessages: GrpcMessageCounts | undefined;
  /** Set by the tracing filter when the port traces requests. */
  trace: ActiveTrace | undefined = undefined;
  /** Filters of the backendRef picked (HTTPBackendRef filters), EMPTY_CHAIN when none. */
  backendFilters: FilterChain = EMPTY_CHAIN;
  /** RequestMirror targets the route filters asked for; sent when the request is forwarded. */
  mirrors: MirrorTarget[] | undefined = undefined;
  /** Upstream attempts made (1 + retries), Envoy's %UPSTREAM_REQUEST_ATTEMPT_COUNT%. */
  attempts = 0;
  /** When the attempt whose response is relayed started (for x-envoy-upstream-service-time). */
  upstreamStartMs = 0;
  /** Set by forward(). */
  upstream: UpstreamHandle | undefined = undefined;
  readonly #observer: ExchangeObserver | undefined;
  readonly #keepAlive: boolean;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #done = false;
  /** HTTP/2 downstream: response head held back one microtask, so a headers-only upstream response stays one HEADERS frame. */
  #pendingHead: HeaderList | undefined = undefined;
  /** Response body phases of the port's filters (Wasm), when it has any; the body streams untouched otherwise. */
  #responseBody: BodyPipeline | ResponseHold | undefined = undefined;
  #responseTrailers: Record<string, string | string[] | undefined> | undefined = undefined;
  /** HTTP/1.1 downstream: the head is written but not yet on the wire (it leaves with the first body bytes). */
  #h1HeadUnsent = false;
  /** `grpc-timeout` of a gRPC request (Istio sets max_grpc_timeout 0: the client's deadline is the route timeout). */
  #grpcDeadline: NodeJS.Timeout | undefined = undefined;

  constructor(
    snapshot: Snapshot,
    listener: ListenerConfig,
    conn: ConnectionContext,
    req: DownstreamRequest,
    res: DownstreamResponse,
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
    this.grpcMessages = isGrpcContentType(req.headers['content-type']) ? GrpcMessageCounts.attach(req) : undefined;
    onceResponse(res, 'close', this.#onDownstreamClose);
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
    if (!this.#keepAlive && !isH2Response(this.res)) this.res.shouldKeepAlive = false;
    const written = withDecisionHeader(this, withRouteResponseHeaders(this, this.route?.grpc === undefined ? reply : grpcRouteReply(reply)));
    writeLocalReply(this.res, written);
    // gRPC requests get a Trailers-Only reply: no body, the status in `grpc-status` (as the writer maps it).
    if (this.grpcMessages === undefined) this.responseBodyBytes = written.bodyBytes?.length ?? Buffer.byteLength(written.body);
    else this.grpcStatus = written.grpcStatus ?? grpcStatusForHttp(written.status);
    this.#finish();
  }

  /**
   * Starts the upstream phase: the exchange's own deadline (gRPC), then `upstream` runs the attempts and
   * hands the response it commits to the DispatchHandler methods below.
   */
  forward(upstream: UpstreamHandle): void {
    if (this.#done) return;
    this.upstream = upstream;
    const deadlineMs = parseGrpcTimeout(this.req.headers['grpc-timeout']);
    if (deadlineMs !== undefined && deadlineMs > 0) this.#grpcDeadline = setTimeout(this.#onGrpcDeadline, deadlineMs);
    upstream.start();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#done) controller.abort(new Error('downstream closed'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx informational responses are not relayed (100-continue is answered by Node).
    this.status = statusCode;
    this.upstreamServiceTimeMs = Math.round(performance.now() - this.upstreamStartMs);
    if (headers['grpc-status'] !== undefined) this.grpcStatus = grpcStatusOf(headers['grpc-status']);
    const list = responseHeaderList(headers, this.upstreamServiceTimeMs);
    const replaced = this.applyResponseFilters(list);
    if (replaced !== undefined) {
      if (replaced instanceof ResponseHeadersPause) return this.#holdResponse(controller, list, replaced, undefined);
      return this.#replaceResponse(controller, replaced);
    }
    this.#sendResponseHead(controller, list);
  }

  #sendResponseHead(controller: Dispatcher.DispatchController, list: HeaderList): void {
    const res = this.res;
    if (this.#controller === undefined) this.#controller = controller;
    this.#startResponseBody(controller);
    if (isH2Response(res)) {
      this.#pendingHead = list;
      queueMicrotask(this.#flushHead);
      return;
    }
    if (!this.#keepAlive) res.shouldKeepAlive = false;
    res.writeHead(this.status, list.fields);
    // Not flushed here: undici hands a small response's head, body and end over from one socket read in one
    // turn, and Node then writes head and body in one syscall instead of two (a measurable share of CPU).
    // Headers of slow bodies (streams, long polls) still go out at the end of this turn.
    this.#h1HeadUnsent = true;
    queueMicrotask(this.#flushH1Head);
  }

  readonly #flushH1Head = (): void => {
    if (!this.#h1HeadUnsent) return;
    this.#h1HeadUnsent = false;
    const res = this.res;
    if (!isH2Response(res) && !res.writableEnded && !res.destroyed) res.flushHeaders();
  };

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#responseBody !== undefined) return this.#responseBody.push(chunk);
    this.#writeBody(controller, chunk);
  }

  #writeBody(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#pendingHead !== undefined) this.#flushHead();
    this.#h1HeadUnsent = false; // the write below carries the head
    this.responseBodyBytes += chunk.length;
    this.grpcMessages?.response.push(chunk);
    if (!writeResponseBody(this.res, chunk)) {
      controller.pause();
      onceResponse(this.res, 'drain', this.#onDrain);
    }
  }

  onResponseEnd(_controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    if (this.#responseBody !== undefined) {
      this.#responseTrailers = trailers;
      return this.#responseBody.end();
    }
    this.#endResponse(trailers);
  }

  #endResponse(upstreamTrailers: Record<string, string | string[] | undefined>): void {
    if (this.#done) return;
    const head = this.#pendingHead;
    this.#h1HeadUnsent = false; // end() below carries the head
    const hasTrailers = Object.keys(upstreamTrailers).length > 0;
    const trailers = hasTrailers ? applyResponseTrailerFilters(this, this.listener.servicePort.filters, upstreamTrailers) : upstreamTrailers;
    if (trailers['grpc-status'] !== undefined) this.grpcStatus = grpcStatusOf(trailers['grpc-status']);
    if (head !== undefined) {
      this.#pendingHead = undefined;
      writeHeadersOnly(this.res, this.status, head.fields, hasTrailers ? trailers : undefined);
    } else {
      // Trailers are kept (gRPC status lives there); HTTP/1.1 clients get them only with `TE: trailers`.
      if (hasTrailers && acceptsTrailers(this.req)) this.res.addTrailers(trailers);
      endResponse(this.res);
    }
    this.#finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#done) return;
    if (this.res.headersSent) {
      // Reset after the response started: Envoy resets the downstream stream too.
      this.flag = 'UR';
      this.details = 'upstream_reset_after_response_started';
      resetDownstream(this.res, err);
      this.#finish();
      return;
    }
    const failure = classifyUpstreamError(err);
    this.reply(LocalReplies.upstreamReset(failure.reason, failure.transportFailure));
  }

  /**
   * Encoder order, as Envoy: backendRef filters, route filters, then the listener's chain, each in reverse.
   * Returns the local reply a filter answered with instead of the upstream response (a Wasm plugin may).
   */
  applyResponseFilters(list: HeaderList): LocalReply | ResponseHeadersPause | undefined {
    const replaced = runResponse(this.backendFilters, this, list) ?? runResponse(this.route?.filters ?? EMPTY_CHAIN, this, list) ?? runResponse(this.listener.servicePort.filters, this, list);
    decisionHeaderOnResponse(this, list);
    return replaced;
  }

  /** The request body as the upstream reads it: the request itself unless a filter has a request-body phase. */
  requestBody(): Readable {
    const stages = bodyStages(this.listener.servicePort.filters, 'request');
    return stages.length === 0 ? requestBodySource(this.req) : filteredRequestBody(this, stages);
  }

  /**
   * A response-headers filter paused (proxy-wasm StopIteration): the head waits, the body is kept (bounded,
   * 500 past the limit as Envoy), and on continue the remaining filters run and everything held goes out.
   */
  #holdResponse(controller: Dispatcher.DispatchController, list: HeaderList, pause: ResponseHeadersPause, held: ResponseHold | undefined): void {
    if (this.#controller === undefined) this.#controller = controller;
    const hold = held ?? new ResponseHold(() => this.#replaceResponse(controller, LocalReplies.responsePayloadTooLarge));
    this.#responseBody = hold;
    void pause.resumed.then((outcome) => {
      if (this.#done) return;
      const next = outcome ?? continueResponseFilters(this, pause, list);
      if (next instanceof ResponseHeadersPause) return this.#holdResponse(controller, list, next, hold);
      this.#responseBody = undefined;
      if (next !== undefined) return this.#replaceResponse(controller, next);
      this.#sendResponseHead(controller, list);
      for (const chunk of hold.chunks) this.onResponseData(controller, chunk);
      if (hold.ended) this.onResponseEnd(controller, this.#responseTrailers ?? {});
    }).catch((err: unknown) => {
      // Nothing may escape a detached continuation: the stream is reset instead.
      controller.abort(err instanceof Error ? err : new Error(String(err)));
      this.abortResponse(undefined, 'response_resume_failed', err instanceof Error ? err : new Error(String(err)));
    });
  }

  /** A response filter answered locally before the head went out: the upstream response is dropped. */
  #replaceResponse(controller: Dispatcher.DispatchController, reply: LocalReply): void {
    this.upstream?.cancel();
    controller.abort(new Error('response replaced by a filter'));
    this.reply(reply);
  }

  /** Response body phases (only when the port chain has one): the upstream body goes through them. */
  #startResponseBody(controller: Dispatcher.DispatchController): void {
    const stages = bodyStages(this.listener.servicePort.filters, 'response');
    if (stages.length === 0) return;
    this.#responseBody = new BodyPipeline(this, stages, 'response', {
      data: (chunk) => this.#writeBody(controller, chunk),
      end: () => this.#endResponse(this.#responseTrailers ?? {}),
      // The head is out: a local reply or an over-limit held body can only reset the stream (as Envoy).
      fail: (reason) => {
        this.upstream?.cancel();
        controller.abort(new Error('response body filter failed'));
        this.abortResponse(undefined, reason === 'overflow' ? 'response_payload_too_large' : reason.details, new Error('response body filter failed'));
      },
    });
  }

  /** Ends a response that already started with a reset (a timeout mid-body), as Envoy does. */
  abortResponse(flag: ResponseFlag | undefined, details: string, err: Error): void {
    if (this.#done) return;
    this.flag = flag;
    this.details = details;
    resetDownstream(this.res, err);
    this.#finish();
  }

  /** Finishes an exchange whose response went out another way (an upgraded connection that closed). */
  complete(): void {
    this.#finish();
  }

  readonly #flushHead = (): void => {
    const head = this.#pendingHead;
    const res = this.res;
    if (head === undefined || this.#done || !isH2Response(res)) return;
    this.#pendingHead = undefined;
    writeResponseHead(res, this.status, head.fields);
  };

  /** The client's gRPC deadline passed: 504 `UT` before the response started, a reset after (as Envoy). */
  readonly #onGrpcDeadline = (): void => {
    this.#grpcDeadline = undefined;
    if (this.#done) return;
    if (this.res.headersSent || this.#pendingHead !== undefined) {
      this.flag = 'UT';
      this.details = 'upstream_response_timeout';
      resetDownstream(this.res, new Error('upstream request timeout'));
      this.#finish();
    } else {
      this.reply(LocalReplies.upstreamTimeout);
    }
    this.upstream?.cancel();
    this.#controller?.abort(new Error('upstream request timeout'));
  };

  readonly #onDrain = (): void => {
    this.#controller?.resume();
  };

  readonly #onDownstreamClose = (): void => {
    if (this.#done) return;
    // The client went away before the response was complete: stop the upstream request.
    this.flag = 'DC';
    this.details = 'downstream_remote_disconnect';
    if (!this.res.headersSent) this.status = 0;
    this.upstream?.cancel();
    this.#controller?.abort(new Error('downstream closed'));
    this.#finish();
  };

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#grpcDeadline !== undefined) clearTimeout(this.#grpcDeadline);
    runLog(this.backendFilters, this);
    runLog(this.route?.filters ?? EMPTY_CHAIN, this);
    runLog(this.listener.servicePort.filters, this);
    this.#observer?.(this);
  }
}

/** A `grpc-status` value as a number; anything that is not a small integer reads as UNKNOWN (2), as Envoy does. */
function grpcStatusOf(v: string | string[] | undefined): number {
  const n = Number(Array.isArray(v) ? v[0] : v);
  return Number.isInteger(n) && n >= 0 && n <= 16 ? n : 2;
}

function runResponse(chain: FilterChain, ex: HttpExchange, list: HeaderList, from = chain.length - 1): LocalReply | ResponseHeadersPause | undefined {
  for (let i = from; i >= 0; i--) {
    const replaced = chain[i]?.onResponseHeaders?.(ex, list);
    if (replaced !== undefined) {
      if (replaced instanceof ResponseHeadersPause) {
        replaced.chain = chain;
        replaced.index = i;
      }
      return replaced;
    }
  }
  return undefined;
}

/** After a paused filter continued: the filters after it in encoder order (rest of its chain, later chains). */
function continueResponseFilters(ex: HttpExchange, pause: ResponseHeadersPause, list: HeaderList): LocalReply | ResponseHeadersPause | undefined {
  const chains = [ex.backendFilters, ex.route?.filters ?? EMPTY_CHAIN, ex.listener.servicePort.filters];
  const at = pause.chain === undefined ? -1 : chains.indexOf(pause.chain);
  let next = at < 0 ? undefined : runResponse(chains[at] as FilterChain, ex, list, pause.index - 1);
  for (let k = at + 1; next === undefined && at >= 0 && k < chains.length; k++) next = runResponse(chains[k] as FilterChain, ex, list);
  decisionHeaderOnResponse(ex, list);
  return next;
}

function runLog(chain: FilterChain, ex: HttpExchange): void {
  for (let i = 0; i < chain.length; i++) chain[i]?.onLog?.(ex);
}
