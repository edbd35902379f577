// The upstream side of one exchange, as Envoy's router runs it: attempts against endpoints of the cluster,
// retries with backoff on another host, the request and per-attempt timeouts, mirrors, and the commit of
// one attempt's response to the downstream (after which nothing is retried).
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { ClusterConfig } from '../config/snapshot.js';
import { LocalReplies } from '../errors/local-reply.js';
import { classifyUpstreamError } from '../errors/upstream-errors.js';
import { requestHasBody } from '../listener/http2-downstream.js';
import type { EndpointRegistry, EndpointState } from '../upstream/endpoint-registry.js';
import { pickEndpoint, type Random } from '../upstream/load-balancer.js';
import type { HttpExchange, UpstreamHandle } from './http-exchange.js';
import { mirrorSelected, sendMirror } from './mirror-request.js';
import { REPLAY_LIMIT_BYTES, ReplayBody } from './replay-body.js';
import { requestTrailerSource } from '../filters/trailer-phase.js';
import { type AttemptOwner, type ResponseHeaders, UpstreamAttempt } from './upstream-attempt.js';
import { backoffMs, retriableFailure, retriableResponse, type UpstreamPolicy, withExpectedTimeout } from './upstream-policy.js';
import type { WebSocketTunnel } from './websocket-tunnel.js';
import { pendingOverflow, retryBudgetKey } from '../upstream/cluster-limits.js';
import { cookieToGenerate, type GeneratedCookie, withSetCookie } from '../upstream/lb/hash-cookie.js';

export interface UpstreamDeps {
  readonly endpoints: EndpointRegistry;
  readonly random: Random;
}

/** Envoy's retry host predicate: up to 5 picks to find a host not tried before (host_selection_retry_max_attempts). */
const HOST_SELECTION_ATTEMPTS = 5;

const TIMEOUT = new Error('upstream request timeout');
const PER_TRY_TIMEOUT = new Error('upstream per try timeout');
const RETRYING = new Error('retrying on another attempt');
const CANCELLED = new Error('downstream closed');

export class UpstreamRequest implements UpstreamHandle, AttemptOwner {
  readonly #ex: HttpExchange;
  readonly #cluster: ClusterConfig;
  readonly #protocol: 'h1' | 'h2';
  readonly #policy: UpstreamPolicy;
  readonly #deps: UpstreamDeps;
  readonly #upgrade: WebSocketTunnel | undefined;
  #body: ReplayBody | undefined = undefined;
  #attempt: UpstreamAttempt | undefined = undefined;
  /** Endpoints of failed attempts, for the retry host predicate; created on the first retry only. */
  #tried: Set<string> | undefined = undefined;
  #retries = 0;
  #committed = false;
  /** The committed attempt's controller (the downstream pauses and resumes it). */
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #over = false;
  /** A DestinationRule circuit-breaker slot is held until #end(). */
  #holdsSlot = false;
  /** A DestinationRule maxRetries budget slot is held from the first retry until #end(). */
  #holdsRetry = false;
  /** consistentHash httpCookie with ttl: the cookie generated for this request, set on its response. */
  #cookie: GeneratedCookie | undefined = undefined;
  #deadline = 0;
  #requestTimer: NodeJS.Timeout | undefined = undefined;
  #perTryTimer: NodeJS.Timeout | undefined = undefined;
  #backoffTimer: NodeJS.Timeout | undefined = undefined;

  constructor(ex: HttpExchange, cluster: ClusterConfig, protocol: 'h1' | 'h2', policy: UpstreamPolicy, deps: UpstreamDeps, upgrade: WebSocketTunnel | undefined) {
    this.#ex = ex;
    this.#cluster = cluster;
    this.#protocol = protocol;
    this.#policy = policy;
    this.#deps = deps;
    this.#upgrade = upgrade;
  }

  start(): void {
    const ex = this.#ex;
    const policy = this.#policy;
    if (this.#cluster.maxRequests !== undefined) {
      if (!this.#deps.endpoints.breakers.tryAcquire(this.#cluster.id, this.#cluster.maxRequests)) {
        this.#over = true;
        ex.reply(LocalReplies.overflow);
        return;
      }
      this.#holdsSlot = true;
    }
    // Attempts never get the downstream request itself: an aborted attempt would destroy it.
    if (requestHasBody(ex.req)) this.#body = new ReplayBody(ex.requestBody(), policy.retry.numRetries > 0 ? REPLAY_LIMIT_BYTES : 0);
    if (policy.requestTimeoutMs > 0) {
      // As Envoy's route timeout, it runs from the end of the downstream request (the spec allows this:
      // "MAY choose to start the timeout after the entire request stream has been received").
      if (this.#body === undefined || ex.req.readableEnded) this.#armRequestTimer();
      else ex.req.once('end', this.#armRequestTimer);
    }
    this.#mirror();
    this.#launch();
  }

  /** The downstream went away (or its own deadline passed): stop everything. */
  cancel(): void {
    this.#end();
    this.#attempt?.cancel(CANCELLED);
  }

  onAttemptHeaders(attempt: UpstreamAttempt, controller: Dispatcher.DispatchController, status: number, headers: ResponseHeaders): boolean {
    if (attempt !== this.#attempt || this.#over) return false;
    if (this.#cluster.outlier !== undefined) this.#deps.endpoints.outliers.record(this.#cluster.outlier, this.#endpointKeys(), attempt.endpoint.key, { kind: 'status', status });
    const retry = this.#policy.retry;
    let limitReached = false;
    if (retriableResponse(retry, status, headers)) {
      if (this.#canRetry()) {
        this.#retry(attempt, RETRYING);
        return false;
      }
      limitReached = retry.numRetries > 0 && this.#retries >= retry.numRetries;
    }
    this.#committed = true;
    this.#controller = controller;
    this.#body?.release();
    const ex = this.#ex;
    ex.upstreamStartMs = attempt.startMs;
    ex.onResponseStart(controller, status, this.#cookie === undefined ? headers : withSetCookie(headers, this.#cookie.setCookie));
    // Envoy flags a response passed through after the retries ran out with URX.
    if (limitReached) ex.flag = 'URX';
    return true;
  }

  onAttemptData(attempt: UpstreamAttempt, controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (attempt === this.#attempt && this.#committed) this.#ex.onResponseData(controller, chunk);
  }

  onAttemptEnd(attempt: UpstreamAttempt, controller: Dispatcher.DispatchController, trailers: ResponseHeaders): void {
    if (attempt !== this.#attempt || !this.#committed) return;
    this.#end();
    this.#ex.onResponseEnd(controller, trailers);
  }

  onAttemptError(attempt: UpstreamAttempt, err: Error): void {
    if (attempt !== this.#attempt || this.#over) return;
    const controller = this.#controller;
    if (controller !== undefined) {
      this.#end();
      this.#ex.onResponseError(controller, err);
      return;
    }
    const failure = classifyUpstreamError(err);
    if (this.#cluster.outlier !== undefined) this.#deps.endpoints.outliers.record(this.#cluster.outlier, this.#endpointKeys(), attempt.endpoint.key, { kind: 'connect-failure' });
    if (retriableFailure(failure, this.#policy.retry) && this.#canRetry()) return this.#retry(attempt, RETRYING);
    this.#end();
    const limitReached = retriableFailure(failure, this.#policy.retry) && this.#retries >= this.#policy.retry.numRetries && this.#policy.retry.numRetries > 0;
    this.#ex.reply(this.#retries === 0
      ? LocalReplies.upstreamReset(failure.reason, failure.transportFailure)
      : LocalReplies.upstreamResetRetried(failure.reason, failure.transportFailure, limitReached));
  }

  onAttemptUpgrade(attempt: UpstreamAttempt, status: number, headers: ResponseHeaders, socket: Duplex): void {
    if (attempt !== this.#attempt || this.#over || this.#upgrade === undefined) {
      socket.destroy();
      return;
    }
    this.#committed = true;
    this.#end();
    this.#upgrade.established(this.#ex, status, headers, socket);
  }

  #launch(): void {
    const ex = this.#ex;
    if (ex.done || this.#over) return;
    const endpoint = this.#pick();
    if (endpoint === undefined) {
      this.#end();
      ex.reply(LocalReplies.noHealthyUpstream);
      return;
    }
    // DestinationRule http1MaxPendingRequests: no free connection and the cluster's wait queue is full.
    if (this.#protocol === 'h1' && pendingOverflow(this.#cluster, this.#deps.endpoints, endpoint)) {
      this.#end();
      ex.reply(LocalReplies.overflow);
      return;
    }
    const body = this.#body === undefined ? null : this.#body.attempt() ?? null;
    const attempt = new UpstreamAttempt(this, endpoint);
    this.#attempt = attempt;
    ex.attempts++;
    ex.upstreamHost = endpoint.key;
    const perTry = this.#policy.perTryTimeoutMs;
    if (perTry > 0) this.#perTryTimer = setTimeout(this.#onPerTryTimeout, perTry);
    const opts = { path: ex.path, method: ex.method, headers: this.#headers(), body };
    const upgrade = this.#upgrade;
    if (this.#protocol === 'h2') {
      // Request trailers (as a request-trailers filter left them) follow the body on HTTP/2 only: an
      // HTTP/1.1 upstream gets the body without them, as Envoy's HTTP/1 codec drops them by default
      // (enable_trailers off).
      const trailers = body === null ? undefined : requestTrailerSource(ex);
      endpoint.h2.dispatch(trailers === undefined ? opts : { ...opts, trailers }, attempt);
    } else endpoint.pool.dispatch(upgrade === undefined ? opts : { ...opts, upgrade: upgrade.protocol }, attempt);
  }

  /** Headers for this attempt; with a timeout, Envoy tells the upstream how long it will wait. */
  #headers(): string[] {
    const fields = this.#ex.requestHeaders.fields;
    if (!this.#policy.expectedTimeoutHeader) return fields;
    const total = this.#policy.requestTimeoutMs;
    const remaining = total === 0 ? 0 : this.#deadline === 0 ? total : Math.max(1, Math.round(this.#deadline - performance.now()));
    return withExpectedTimeout(fields, this.#policy.perTryTimeoutMs, remaining);
  }

  /** Least request over the cluster, avoiding hosts already tried when there is another one. */
  #pick(): EndpointState | undefined {
    const { endpoints, random } = this.#deps;
    const tried = this.#tried;
    // DestinationRule consistentHash reads the request; retries do not use the previous-hosts predicate then (Istio).
    if (this.#cluster.lb?.kind === 'hash') {
      const ex = this.#ex;
      const conn = ex.conn;
      this.#cookie ??= cookieToGenerate(this.#cluster.lb, ex.requestHeaders, conn);
      const input = { headers: ex.requestHeaders, path: ex.path, sourceIp: conn.remoteAddress };
      return pickEndpoint(this.#cluster, endpoints, random, this.#cookie === undefined ? input : { ...input, generatedCookie: this.#cookie.value });
    }
    let endpoint = pickEndpoint(this.#cluster, endpoints, random);
    if (tried !== undefined) {
      for (let i = 1; i < HOST_SELECTION_ATTEMPTS && endpoint !== undefined && tried.has(endpoint.key); i++) endpoint = pickEndpoint(this.#cluster, endpoints, random);
    }
    return endpoint;
  }

  #canRetry(): boolean {
    return !this.#over && !this.#ex.done && this.#retries < this.#policy.retry.numRetries && (this.#body === undefined || this.#body.replayable) && this.#retryBudget();
  }

  /** DestinationRule maxRetries: retries outstanding per cluster; past it no more retries (Envoy's retry overflow). */
  #retryBudget(): boolean {
    const max = this.#cluster.upstream?.pool.maxRetries;
    if (max === undefined || this.#holdsRetry) return true;
    if (!this.#deps.endpoints.breakers.tryAcquire(retryBudgetKey(this.#cluster), max)) return false;
    this.#holdsRetry = true;
    return true;
  }

  /** Drops `attempt` and schedules the next one after the backoff. */
  #retry(attempt: UpstreamAttempt, reason: Error): void {
    (this.#tried ??= new Set()).add(attempt.endpoint.key);
    attempt.cancel(reason);
    this.#clearPerTry();
    this.#attempt = undefined;
    this.#retries++;
    const delay = backoffMs(this.#policy.retry, this.#retries, this.#deps.random);
    this.#backoffTimer = setTimeout(this.#onBackoff, delay);
  }

  /** RequestMirror: copies of the request, sent alongside the first attempt. */
  #mirror(): void {
    const ex = this.#ex;
    const targets = ex.mirrors;
    if (targets === undefined) return;
    const { endpoints, random } = this.#deps;
    for (const target of targets) {
      if (!mirrorSelected(target, random)) continue;
      const body = this.#body === undefined ? null : this.#body.tap();
      // A body already too large to copy whole is not mirrored (a truncated copy would be wrong).
      if (this.#body !== undefined && body === undefined) continue;
      sendMirror({
        target, method: ex.method, path: ex.path, headers: ex.requestHeaders.fields, body: body ?? null,
        downstreamMajor: ex.req.httpVersionMajor, timeoutMs: this.#policy.requestTimeoutMs,
      }, endpoints, random);
    }
  }

  readonly #armRequestTimer = (): void => {
    if (this.#over) return;
    this.#deadline = performance.now() + this.#policy.requestTimeoutMs;
    this.#requestTimer = setTimeout(this.#onRequestTimeout, this.#policy.requestTimeoutMs);
  };

  readonly #onBackoff = (): void => {
    this.#backoffTimer = undefined;
    this.#launch();
  };

  readonly #onPerTryTimeout = (): void => {
    this.#perTryTimer = undefined;
    const attempt = this.#attempt;
    if (attempt === undefined || this.#over) return;
    const ex = this.#ex;
    if (this.#committed) {
      this.#end();
      attempt.cancel(PER_TRY_TIMEOUT);
      ex.abortResponse('UT', 'upstream_per_try_timeout', PER_TRY_TIMEOUT);
      return;
    }
    const retry = this.#policy.retry;
    if (retry.onPerTryTimeout && this.#canRetry()) return this.#retry(attempt, PER_TRY_TIMEOUT);
    this.#end();
    attempt.cancel(PER_TRY_TIMEOUT);
    ex.reply(LocalReplies.upstreamPerTryTimeout(retry.onPerTryTimeout && retry.numRetries > 0 && this.#retries >= retry.numRetries));
  };

  readonly #onRequestTimeout = (): void => {
    this.#requestTimer = undefined;
    if (this.#over) return;
    const committed = this.#committed;
    this.#end();
    this.#attempt?.cancel(TIMEOUT);
    const ex = this.#ex;
    if (committed) ex.abortResponse('UT', 'upstream_response_timeout', TIMEOUT);
    else ex.reply(LocalReplies.upstreamTimeout);
  };

  #clearPerTry(): void {
    if (this.#perTryTimer !== undefined) clearTimeout(this.#perTryTimer);
    this.#perTryTimer = undefined;
  }

  #endpointKeys(): string[] {
    return this.#cluster.endpoints.map((e) => e.key);
  }

  /** No more attempts, retries or timeouts for this request. */
  #end(): void {
    if (this.#over) return;
    this.#over = true;
    if (this.#holdsSlot) this.#deps.endpoints.breakers.release(this.#cluster.id);
    if (this.#holdsRetry) this.#deps.endpoints.breakers.release(retryBudgetKey(this.#cluster));
    this.#clearPerTry();
    if (this.#requestTimer !== undefined) clearTimeout(this.#requestTimer);
    if (this.#backoffTimer !== undefined) clearTimeout(this.#backoffTimer);
    this.#requestTimer = undefined;
    this.#backoffTimer = undefined;
  }
}
