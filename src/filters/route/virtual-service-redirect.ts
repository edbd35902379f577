// VirtualService `redirect` (Envoy's redirect route action, as Istio's ApplyRedirect configures it): unlike
// Gateway API RequestRedirect, `uri` replaces the whole path (the query is kept unless `uri` has its own), the
// port is only changed when asked (`port`, or `derivePort: FROM_REQUEST_PORT`), and the default code is 301.
import { type LocalReply, LocalReplies } from '../../errors/local-reply.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpFilter } from '../types.js';

export interface VirtualServiceRedirectConfig {
  readonly uri: string | undefined;
  readonly authority: string | undefined;
  /** A port, `request` for FROM_REQUEST_PORT (the Service port called), or undefined: keep the Host's. */
  readonly port: number | 'request' | undefined;
  readonly scheme: string | undefined;
  readonly code: number;
}

const DEFAULT_PORT: Readonly<Record<string, number>> = { http: 80, https: 443 };

export class VirtualServiceRedirectFilter implements HttpFilter {
  readonly name = 'route.redirect';
  readonly #config: VirtualServiceRedirectConfig;

  constructor(config: VirtualServiceRedirectConfig) {
    this.#config = config;
  }

  onRequestHeaders(ex: HttpExchange): LocalReply {
    return LocalReplies.redirect(this.#config.code, this.location(ex));
  }

  location(ex: HttpExchange): string {
    const c = this.#config;
    // Inside the mesh the request came as plaintext HTTP.
    const scheme = c.scheme ?? 'http';
    const requested = splitHost(ex.requestHeaders.get('host') ?? ex.listener.service.hostname);
    const host = c.authority !== undefined ? splitHost(c.authority) : requested;
    let port = c.port === 'request' ? ex.listener.port : c.port ?? host.port;
    // A scheme change without a port: the old scheme's default port does not carry over.
    if (c.scheme !== undefined && c.port === undefined && port !== undefined && (port === 80 || port === 443)) port = undefined;
    const authority = port === undefined || port === DEFAULT_PORT[scheme] ? host.name : `${host.name}:${port}`;
    const q = ex.path.indexOf('?');
    let path = ex.path;
    if (c.uri !== undefined) path = c.uri.includes('?') || q === -1 ? c.uri : c.uri + ex.path.slice(q);
    return `${scheme}://${authority}${path}`;
  }
}

/** `host[:port]` (IPv6 literals keep their brackets). */
function splitHost(value: string): { readonly name: string; readonly port: number | undefined } {
  const close = value.startsWith('[') ? value.indexOf(']') : -1;
  const colon = value.indexOf(':', close + 1);
  if (colon === -1) return { name: value, port: undefined };
  const port = Number(value.slice(colon + 1));
  return { name: value.slice(0, colon), port: Number.isInteger(port) && port > 0 ? port : undefined };
}
