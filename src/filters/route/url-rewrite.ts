// HTTPRoute URLRewrite (Extended): replaces the Host and/or the path of the request sent upstream.
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpFilter } from '../types.js';
import type { PathModifier } from './path-modifier.js';

export class UrlRewriteFilter implements HttpFilter {
  readonly name = 'route.url_rewrite';
  readonly #hostname: string | undefined;
  readonly #path: PathModifier | undefined;

  constructor(hostname: string | undefined, path: PathModifier | undefined) {
    this.#hostname = hostname;
    this.#path = path;
  }

  onRequestHeaders(ex: HttpExchange): undefined {
    // "Hostname is the value to be used to replace the Host header value during forwarding."
    if (this.#hostname !== undefined) ex.requestHeaders.set('host', this.#hostname);
    if (this.#path !== undefined) {
      const original = ex.path;
      const rewritten = this.#path.apply(original);
      if (rewritten !== original) {
        // Envoy keeps the path the client asked for in x-envoy-original-path (the access log's PATH uses it).
        ex.requestHeaders.set('x-envoy-original-path', original);
        ex.path = rewritten;
      }
    }
    return undefined;
  }
}
