// The HTTP filter contract, named after Envoy's and proxy-wasm's phases. Filters are created once per
// snapshot (stateless); per-request state lives on the HttpExchange.
import type { LocalReply } from '../errors/local-reply.js';
import type { BodyBuffer } from './body-buffer.js';
import type { HeaderList } from '../http/header-list.js';
import type { HttpExchange } from '../proxy/http-exchange.js';
import type { ResponseHeadersPause } from './response-headers-pause.js';

/** A phase either lets the request go on or ends it with a local reply. */
export type FilterOutcome = undefined | LocalReply;

export interface HttpFilter {
  /** Stable name for traces and config dumps, e.g. `istio.rbac`, `route.request_header_modifier`. */
  readonly name: string;
  /** Request headers phase. Return a Promise only when real I/O is needed (JWKS, ext-authz, Wasm). */
  onRequestHeaders?(ex: HttpExchange): FilterOutcome | Promise<FilterOutcome>;
  /**
   * Response headers phase: may edit the headers about to be sent downstream. Synchronous. Returning a
   * LocalReply replaces the upstream response (proxy-wasm may send a local response until headers go out).
   * A ResponseHeadersPause (Wasm only) holds the head and body until the filter continues or answers.
   */
  onResponseHeaders?(ex: HttpExchange, headers: HeaderList): void | LocalReply | ResponseHeadersPause;
  /**
   * Body phases (src/filters/body-pipeline.ts). Only filters that read or rewrite bodies define them; a chain
   * without any keeps the streaming path untouched. `body` holds what this filter has held so far plus the
   * new chunk; `resume` lets it release a held body later (proxy_continue_stream).
   */
  onRequestBody?(ex: HttpExchange, body: BodyBuffer, endOfStream: boolean, resume: BodyResume): BodyOutcome;
  onResponseBody?(ex: HttpExchange, body: BodyBuffer, endOfStream: boolean, resume: BodyResume): BodyOutcome;
  /** Request trailers phase (Wasm): may edit the trailers an HTTP/2 upstream gets, or answer locally. */
  onRequestTrailers?(ex: HttpExchange, trailers: HeaderList): void | LocalReply;
  /** Response trailers phase: may edit the trailers about to be sent downstream. */
  onResponseTrailers?(ex: HttpExchange, trailers: HeaderList): void;
  /** Always runs once the request is over, local reply or not (access log, stats). */
  onLog?(ex: HttpExchange): void;
}

/** `continue` passes what is held on; `hold` keeps buffering (bounded); a LocalReply ends the request. */
export type BodyOutcome = 'continue' | 'hold' | LocalReply;
/** Releases what a filter held (it passes on, with end of stream if the body had ended). */
export type BodyResume = () => void;

/** Per-snapshot filter list; an empty chain is the shared EMPTY_CHAIN so the hot path checks length only. */
export type FilterChain = ReadonlyArray<HttpFilter>;
export const EMPTY_CHAIN: FilterChain = Object.freeze([]);
