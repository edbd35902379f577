// HTTPRoute CORS (Extended, HTTPCORSFilter): preflights are answered here and never forwarded (as Istio
// does, matched or not); actual cross-origin requests get the allow/expose headers on their response.
import { type LocalReply, LocalReplies } from '../../errors/local-reply.js';
import type { HeaderList } from '../../http/header-list.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpFilter } from '../types.js';
import { OriginMatcher } from './cors-origin.js';

export interface CorsConfig {
  readonly allowOrigins: ReadonlyArray<string>;
  readonly allowCredentials: boolean;
  readonly allowMethods: ReadonlyArray<string>;
  readonly allowHeaders: ReadonlyArray<string>;
  readonly exposeHeaders: ReadonlyArray<string>;
  readonly maxAge: number;
}

/** A configured list as the header value: joined once, `*` kept apart, undefined when empty. */
type ListValue = { readonly kind: 'none' } | { readonly kind: 'wildcard' } | { readonly kind: 'list'; readonly value: string };

function listValue(items: ReadonlyArray<string>): ListValue {
  if (items.length === 0) return { kind: 'none' };
  if (items.includes('*')) return { kind: 'wildcard' };
  return { kind: 'list', value: items.join(', ') };
}

const NO_HEADERS: ReadonlyArray<string> = Object.freeze([]);

export class CorsFilter implements HttpFilter {
  readonly name = 'route.cors';
  readonly #origins: OriginMatcher;
  readonly #credentials: boolean;
  readonly #methods: ListValue;
  readonly #headers: ListValue;
  readonly #expose: ListValue;
  readonly #maxAge: string;

  constructor(config: CorsConfig) {
    this.#origins = new OriginMatcher(config.allowOrigins);
    this.#credentials = config.allowCredentials;
    this.#methods = listValue(config.allowMethods);
    this.#headers = listValue(config.allowHeaders);
    this.#expose = listValue(config.exposeHeaders);
    this.#maxAge = String(config.maxAge);
  }

  onRequestHeaders(ex: HttpExchange): LocalReply | undefined {
    const h = ex.req.headers;
    const origin = h.origin;
    const requestMethod = h['access-control-request-method'];
    // A preflight is an OPTIONS request with Origin and Access-Control-Request-Method (Fetch standard).
    if (ex.method !== 'OPTIONS' || origin === undefined || requestMethod === undefined || requestMethod === '') return undefined;
    // "If the request Origin does not match the configured allowed origins, the gateway returns 204/200
    // response but doesn't set the relevant cross-origin response headers."
    if (!this.#origins.matches(origin)) return LocalReplies.corsPreflight(NO_HEADERS);
    const fields = ['access-control-allow-origin', origin];
    if (this.#credentials) fields.push('access-control-allow-credentials', 'true');
    // With `*` the spec allows `*` or the requested value, and demands the requested value when credentials
    // are allowed; echoing is right in both cases.
    const methods = this.#methods;
    if (methods.kind === 'list') fields.push('access-control-allow-methods', methods.value);
    else if (methods.kind === 'wildcard') fields.push('access-control-allow-methods', requestMethod);
    const headers = this.#headers;
    const requestHeaders = h['access-control-request-headers'];
    if (headers.kind === 'list') fields.push('access-control-allow-headers', headers.value);
    else if (headers.kind === 'wildcard' && requestHeaders !== undefined && requestHeaders !== '') fields.push('access-control-allow-headers', requestHeaders);
    this.#pushExpose(fields);
    fields.push('access-control-max-age', this.#maxAge);
    return LocalReplies.corsPreflight(Object.freeze(fields));
  }

  onResponseHeaders(ex: HttpExchange, headers: HeaderList): void {
    const origin = ex.req.headers.origin;
    if (origin === undefined || !this.#origins.matches(origin)) return;
    // "the gateway sets the response header Access-Control-Allow-Origin to the same value as the Origin header".
    headers.set('access-control-allow-origin', origin);
    if (this.#credentials) headers.set('access-control-allow-credentials', 'true');
    const expose = this.#expose;
    if (expose.kind === 'list') headers.set('access-control-expose-headers', expose.value);
    else if (expose.kind === 'wildcard' && !this.#credentials) headers.set('access-control-expose-headers', '*');
  }

  #pushExpose(fields: string[]): void {
    const expose = this.#expose;
    if (expose.kind === 'list') fields.push('access-control-expose-headers', expose.value);
    // "If ... `*` in exposeHeaders and allowCredentials is set to true, the gateway cannot use the `*`".
    else if (expose.kind === 'wildcard' && !this.#credentials) fields.push('access-control-expose-headers', '*');
  }
}
