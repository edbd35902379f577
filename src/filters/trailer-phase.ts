// Trailers through filters that have a trailers phase (Wasm plugins): response trailers in encoder order
// (reverse), request trailers in decoder order, kept on the side for an HTTP/2 upstream to send after the
// body. Chains without such a filter never convert the trailers.
import type { LocalReply } from '../errors/local-reply.js';
import { HeaderList } from '../http/header-list.js';
import type { HttpExchange } from '../proxy/http-exchange.js';
import type { RequestTrailerSource } from '../upstream/h2-request.js';
import type { FilterChain, HttpFilter } from './types.js';

type Trailers = Record<string, string | string[] | undefined>;

const stagesByChain = new WeakMap<FilterChain, ReadonlyArray<HttpFilter>>();
const requestStagesByChain = new WeakMap<FilterChain, ReadonlyArray<HttpFilter>>();
const NONE: ReadonlyArray<HttpFilter> = Object.freeze([]);

function trailerStages(chain: FilterChain): ReadonlyArray<HttpFilter> {
  let stages = stagesByChain.get(chain);
  if (stages === undefined) {
    stages = chain.filter((f) => f.onResponseTrailers !== undefined).reverse();
    stagesByChain.set(chain, stages);
  }
  return stages;
}

/** The port chain's filters with a request-trailers phase, in decoder order (worked out once per chain). */
export function requestTrailerStages(chain: FilterChain): ReadonlyArray<HttpFilter> {
  if (chain.length === 0) return NONE;
  let stages = requestStagesByChain.get(chain);
  if (stages === undefined) {
    const picked = chain.filter((f) => f.onRequestTrailers !== undefined);
    stages = picked.length === 0 ? NONE : Object.freeze(picked);
    requestStagesByChain.set(chain, stages);
  }
  return stages;
}

/** The trailers as the filters left them (the same object when no filter has the phase). */
export function applyResponseTrailerFilters(ex: HttpExchange, chain: FilterChain, trailers: Trailers): Trailers {
  if (chain.length === 0) return trailers;
  const stages = trailerStages(chain);
  if (stages.length === 0) return trailers;
  const fields: string[] = [];
  for (const name in trailers) {
    const v = trailers[name];
    if (typeof v === 'string') fields.push(name, v);
    else if (v !== undefined) for (const x of v) fields.push(name, x);
  }
  const list = new HeaderList(fields);
  for (const f of stages) f.onResponseTrailers?.(ex, list);
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < list.fields.length; i += 2) {
    const name = (list.fields[i] as string).toLowerCase();
    const value = list.fields[i + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** Request trailers after the request-trailers phase, per exchange (read by the upstream when the body ends). */
const requestTrailers = new WeakMap<HttpExchange, HeaderList>();

/**
 * Runs the request-trailers phase once the downstream body ended, when the request carried trailers
 * (HTTP/2, or chunked HTTP/1.1: node exposes both as `rawTrailers`); as Envoy, the phase is skipped for a
 * request without trailers. A filter may answer locally instead.
 */
export function applyRequestTrailerFilters(ex: HttpExchange, stages: ReadonlyArray<HttpFilter>): LocalReply | undefined {
  const raw = ex.req.rawTrailers;
  if (stages.length === 0 || raw.length === 0) return undefined;
  const list = new HeaderList(raw.map((v, i) => ((i & 1) === 0 ? v.toLowerCase() : v)));
  requestTrailers.set(ex, list);
  for (const f of stages) {
    const reply = f.onRequestTrailers?.(ex, list);
    if (reply !== undefined) return reply;
  }
  return undefined;
}

class ExchangeRequestTrailers implements RequestTrailerSource {
  readonly #ex: HttpExchange;

  constructor(ex: HttpExchange) {
    this.#ex = ex;
  }

  requestTrailers(): ReadonlyArray<string> | undefined {
    return requestTrailers.get(this.#ex)?.fields;
  }
}

/**
 * What an HTTP/2 upstream sends as request trailers: only for ports whose chain has a request-trailers
 * phase (a chain without one keeps the plain path, which does not forward request trailers).
 */
export function requestTrailerSource(ex: HttpExchange): RequestTrailerSource | undefined {
  return requestTrailerStages(ex.listener.servicePort.filters).length === 0 ? undefined : new ExchangeRequestTrailers(ex);
}
