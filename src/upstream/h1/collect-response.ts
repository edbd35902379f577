// A whole (bounded) response through any pool's `dispatch`: for callers that want the body in one Buffer rather
// than a stream (proxy-wasm http calls), without undici's request() machinery on top of our pools.
import type { Dispatcher } from 'undici';
import type { H1DispatchOptions } from './h1-request.js';

export interface CollectedResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly trailers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export interface Dispatching {
  dispatch(opts: H1DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
}

/** Sends `opts` and calls `done` once: the response, or undefined on failure, timeout or a body over `limitBytes`. */
export function collectResponse(pool: Dispatching, opts: H1DispatchOptions, limitBytes: number, timeoutMs: number, done: (res: CollectedResponse | undefined) => void): void {
  pool.dispatch(opts, new Collector(limitBytes, timeoutMs, done));
}

const TIMED_OUT = new Error('http call timed out');
const TOO_LARGE = new Error('http call response too large');

class Collector implements Dispatcher.DispatchHandler {
  readonly #limit: number;
  readonly #done: (res: CollectedResponse | undefined) => void;
  #timer: NodeJS.Timeout | undefined;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #status = 0;
  #headers: Record<string, string | string[] | undefined> = {};
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #settled = false;

  constructor(limit: number, timeoutMs: number, done: (res: CollectedResponse | undefined) => void) {
    this.#limit = limit;
    this.#done = done;
    this.#timer = timeoutMs > 0 ? setTimeout(this.#onTimeout, timeoutMs) : undefined;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#settled) controller.abort(TIMED_OUT);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.#status = statusCode;
    this.#headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.#settle(undefined);
      controller.abort(TOO_LARGE);
      return;
    }
    // The pool hands views into its socket buffers: keep copies.
    this.#chunks.push(Buffer.from(chunk));
  }

  onResponseEnd(_c: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    this.#settle({ statusCode: this.#status, headers: this.#headers, trailers, body: Buffer.concat(this.#chunks) });
  }

  onResponseError(): void {
    this.#settle(undefined);
  }

  #settle(res: CollectedResponse | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#done(res);
  }

  readonly #onTimeout = (): void => {
    this.#timer = undefined;
    this.#settle(undefined);
    this.#controller?.abort(TIMED_OUT);
  };
}
