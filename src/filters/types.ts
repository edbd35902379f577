// The HTTP filter contract, named after Envoy's and proxy-wasm's phases. Filters are created once per
// snapshot (stateless); per-request state lives on the HttpExchange.
import type { LocalReply } from '../errors/local-reply.js';
import type { HeaderList } from '../http/header-list.js';
import type { HttpExchange } from '../proxy/http-exchange.js';

/** A phase either lets the request go on or ends it with a local reply. */
export type FilterOutcome = undefined | LocalReply;

export interface HttpFilter {
  /** Stable name for traces and config dumps, e.g. `istio.rbac`, `route.request_header_modifier`. */
  readonly name: string;
  /** Request headers phase. Return a Promise only when real I/O is needed (JWKS, ext-authz, Wasm). */
  onRequestHeaders?(ex: HttpExchange): FilterOutcome | Promise<FilterOutcome>;
  /** Response headers phase: may edit the headers about to be sent downstream. Synchronous. */
  onResponseHeaders?(ex: HttpExchange, headers: HeaderList): void;
  /** Always runs once the request is over, local reply or not (access log, stats). */
  onLog?(ex: HttpExchange): void;
}

/** Per-snapshot filter list; an empty chain is the shared EMPTY_CHAIN so the hot path checks length only. */
export type FilterChain = ReadonlyArray<HttpFilter>;
export const EMPTY_CHAIN: FilterChain = Object.freeze([]);
