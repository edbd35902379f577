// One try of a request against one endpoint: the undici DispatchHandler given to the endpoint's pool
// (HTTP/1.1 or HTTP/2). It reports to its owner, which decides between retrying and committing, and it can
// be cancelled at any point, even before the pool has started it.
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { EndpointState } from '../upstream/endpoint-registry.js';

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** What an attempt reports; the owner ignores reports from attempts it no longer waits for. */
export interface AttemptOwner {
  /** Response head of this attempt; returns false when the owner discarded it (the attempt is cancelled). */
  onAttemptHeaders(attempt: UpstreamAttempt, controller: Dispatcher.DispatchController, status: number, headers: ResponseHeaders): boolean;
  onAttemptData(attempt: UpstreamAttempt, controller: Dispatcher.DispatchController, chunk: Buffer): void;
  onAttemptEnd(attempt: UpstreamAttempt, controller: Dispatcher.DispatchController, trailers: ResponseHeaders): void;
  /** Failure of this attempt (undici reports some before it ever started, without a controller). */
  onAttemptError(attempt: UpstreamAttempt, err: Error): void;
  onAttemptUpgrade(attempt: UpstreamAttempt, status: number, headers: ResponseHeaders, socket: Duplex): void;
}

export class UpstreamAttempt implements Dispatcher.DispatchHandler {
  readonly endpoint: EndpointState;
  readonly startMs = performance.now();
  readonly #owner: AttemptOwner;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #cancelled: Error | undefined = undefined;
  #settled = false;

  constructor(owner: AttemptOwner, endpoint: EndpointState) {
    this.#owner = owner;
    this.endpoint = endpoint;
    // Least-request load balancing counts attempts in flight on the endpoint.
    endpoint.active++;
  }

  get cancelled(): boolean {
    return this.#cancelled !== undefined;
  }

  /** Stops this attempt; whatever it reports afterwards is dropped. */
  cancel(reason: Error): void {
    if (this.#cancelled !== undefined) return;
    this.#cancelled = reason;
    this.#settle();
    // Before the pool started it there is no controller yet: onRequestStart aborts it then.
    this.#controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#cancelled !== undefined) controller.abort(this.#cancelled);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    this.#controller ??= controller;
    // 1xx informational responses are not relayed (100-continue is answered by Node downstream).
    if (this.#cancelled !== undefined || statusCode < 200) return;
    this.#owner.onAttemptHeaders(this, controller, statusCode, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#cancelled === undefined) this.#owner.onAttemptData(this, controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: ResponseHeaders): void {
    this.#settle();
    if (this.#cancelled === undefined) this.#owner.onAttemptEnd(this, controller, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.#settle();
    if (this.#cancelled === undefined) this.#owner.onAttemptError(this, err);
  }

  onRequestUpgrade(_controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders, socket: Duplex): void {
    this.#settle();
    if (this.#cancelled !== undefined) {
      socket.destroy();
      return;
    }
    this.#owner.onAttemptUpgrade(this, statusCode, headers, socket);
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.endpoint.active--;
  }
}
