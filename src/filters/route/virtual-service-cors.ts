// VirtualService `corsPolicy` (Envoy's CORS filter, per route): origins are StringMatches; a preflight from an
// allowed origin is answered here; a preflight from any other origin is forwarded upstream (Istio's default,
// `unmatchedPreflights: FORWARD`) or answered without CORS headers (`IGNORE`); actual requests from an allowed
// origin get allow-origin, credentials and expose headers on their response.
import { type LocalReply, LocalReplies } from '../../errors/local-reply.js';
import type { HeaderList } from '../../http/header-list.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpFilter } from '../types.js';

export interface OriginTest {
  test(origin: string): boolean;
}

export interface VirtualServiceCorsConfig {
  readonly origins: ReadonlyArray<OriginTest>;
  /** Comma-joined as Istio sends them to Envoy; undefined when not configured. */
  readonly allowMethods: string | undefined;
  readonly allowHeaders: string | undefined;
  readonly exposeHeaders: string | undefined;
  /** Seconds, as the header value. */
  readonly maxAge: string | undefined;
  readonly allowCredentials: boolean;
  readonly unmatchedPreflights: 'FORWARD' | 'IGNORE';
}

const NO_HEADERS: ReadonlyArray<string> = Object.freeze([]);

export class VirtualServiceCorsFilter implements HttpFilter {
  readonly name = 'route.cors';
  readonly #config: VirtualServiceCorsConfig;

  constructor(config: VirtualServiceCorsConfig) {
    this.#config = config;
  }

  onRequestHeaders(ex: HttpExchange): LocalReply | undefined {
    const h = ex.req.headers;
    const origin = h.origin;
    const method = h['access-control-request-method'];
    if (ex.method !== 'OPTIONS' || origin === undefined || method === undefined || method === '') return undefined;
    const c = this.#config;
    if (!this.#allowed(origin)) return c.unmatchedPreflights === 'FORWARD' ? undefined : LocalReplies.corsPreflight(NO_HEADERS);
    const fields = ['access-control-allow-origin', origin];
    if (c.allowCredentials) fields.push('access-control-allow-credentials', 'true');
    if (c.allowMethods !== undefined) fields.push('access-control-allow-methods', c.allowMethods);
    if (c.allowHeaders !== undefined) fields.push('access-control-allow-headers', c.allowHeaders);
    if (c.maxAge !== undefined) fields.push('access-control-max-age', c.maxAge);
    return LocalReplies.corsPreflight(Object.freeze(fields));
  }

  onResponseHeaders(ex: HttpExchange, headers: HeaderList): void {
    const origin = ex.req.headers.origin;
    if (origin === undefined || !this.#allowed(origin)) return;
    const c = this.#config;
    headers.set('access-control-allow-origin', origin);
    if (c.allowCredentials) headers.set('access-control-allow-credentials', 'true');
    if (c.exposeHeaders !== undefined) headers.set('access-control-expose-headers', c.exposeHeaders);
  }

  #allowed(origin: string): boolean {
    const origins = this.#config.origins;
    for (let i = 0; i < origins.length; i++) if ((origins[i] as OriginTest).test(origin)) return true;
    return false;
  }
}
