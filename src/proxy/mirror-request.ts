// Sends the copy of a request that a RequestMirror filter asked for: to one endpoint of the mirror backend,
// Host suffixed with `-shadow` (as Envoy's shadow writer does), response read and discarded. Nothing it
// does can fail, delay or slow the primary request.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { MirrorTarget } from '../filters/route/request-mirror.js';
import type { EndpointRegistry } from '../upstream/endpoint-registry.js';
import { pickEndpoint, type Random } from '../upstream/load-balancer.js';
import { clusterUpstreamProtocol } from '../upstream/upstream-protocol.js';

export interface MirrorRequest {
  readonly target: MirrorTarget;
  readonly method: string;
  readonly path: string;
  /** The primary's upstream headers; copied, never modified. */
  readonly headers: ReadonlyArray<string>;
  readonly body: Readable | null;
  readonly downstreamMajor: number;
  /** The route's request timeout also bounds the mirror (Envoy applies it to shadows); 0 = none. */
  readonly timeoutMs: number;
}

/** Whether this request is mirrored: `numerator / denominator` of requests are. */
export function mirrorSelected(target: MirrorTarget, random: Random): boolean {
  return target.numerator >= target.denominator || random() * target.denominator < target.numerator;
}

export function sendMirror(m: MirrorRequest, endpoints: EndpointRegistry, random: Random): void {
  const endpoint = pickEndpoint(m.target.cluster, endpoints, random);
  if (endpoint === undefined) {
    m.body?.destroy();
    return;
  }
  const headers = [...m.headers];
  for (let i = 0; i < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === 'host') headers[i + 1] = shadowHost(headers[i + 1] as string);
  }
  const sink = new MirrorSink(endpoint, m.timeoutMs, m.body);
  const opts = { path: m.path, method: m.method, headers, body: m.body };
  try {
    if (clusterUpstreamProtocol(m.target.cluster, m.downstreamMajor, false) === 'h2') endpoint.h2.dispatch(opts, sink);
    else endpoint.pool.dispatch(opts, sink);
  } catch {
    sink.settle();
  }
}

/** `echo` → `echo-shadow`; `echo:8080` → `echo-shadow:8080` (the suffix goes before the port). */
export function shadowHost(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon === -1 || host.endsWith(']')) return `${host}-shadow`;
  return `${host.slice(0, colon)}-shadow${host.slice(colon)}`;
}

/** Reads the mirror's response and drops it; keeps the endpoint's active count right. */
class MirrorSink implements Dispatcher.DispatchHandler {
  readonly #endpoint: { active: number };
  readonly #body: Readable | null;
  #timer: NodeJS.Timeout | undefined;
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #settled = false;

  constructor(endpoint: { active: number }, timeoutMs: number, body: Readable | null) {
    this.#endpoint = endpoint;
    this.#body = body;
    endpoint.active++;
    this.#timer = timeoutMs > 0 ? setTimeout(this.#onTimeout, timeoutMs) : undefined;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#settled) controller.abort(new Error('mirror timed out'));
  }

  onResponseStart(): void {}

  onResponseData(): void {}

  onResponseEnd(): void {
    this.settle();
  }

  onResponseError(): void {
    this.settle();
  }

  settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#endpoint.active--;
    if (this.#body !== null && !this.#body.destroyed) this.#body.destroy();
  }

  readonly #onTimeout = (): void => {
    this.#timer = undefined;
    this.#controller?.abort(new Error('mirror timed out'));
    this.settle();
  };
}
