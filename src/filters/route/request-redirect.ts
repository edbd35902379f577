// HTTPRoute RequestRedirect (Core; scheme, path, port and 303/307/308 Extended): answers with a redirect
// built from the request and never forwards it.
import { type LocalReply, LocalReplies } from '../../errors/local-reply.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpFilter } from '../types.js';
import type { PathModifier } from './path-modifier.js';

export interface RedirectConfig {
  readonly scheme: 'http' | 'https' | undefined;
  readonly hostname: string | undefined;
  readonly port: number | undefined;
  readonly path: PathModifier | undefined;
  readonly statusCode: number;
}

const WELL_KNOWN_PORT = { http: 80, https: 443 } as const;

export class RequestRedirectFilter implements HttpFilter {
  readonly name = 'route.request_redirect';
  readonly #config: RedirectConfig;

  constructor(config: RedirectConfig) {
    this.#config = config;
  }

  onRequestHeaders(ex: HttpExchange): LocalReply {
    return LocalReplies.redirect(this.#config.statusCode, this.location(ex));
  }

  /** The `Location` value for this request. */
  location(ex: HttpExchange): string {
    const c = this.#config;
    // "When empty, the scheme of the request is used": plaintext HTTP inside the mesh (or the tunnel).
    const scheme = c.scheme ?? 'http';
    // "When empty, the hostname in the Host header of the request is used."
    const host = c.hostname ?? hostOnly(ex.requestHeaders.get('host') ?? ex.listener.service.hostname);
    // Port: the configured one; else the scheme's well-known port when the scheme is set; else "the
    // Gateway Listener port", which for a mesh route is the Service port the client called.
    const port = c.port ?? (c.scheme !== undefined ? WELL_KNOWN_PORT[c.scheme] : ex.listener.port);
    // "SHOULD NOT add the port number ... HTTP and port 80 ... HTTPS and port 443".
    const authority = port === WELL_KNOWN_PORT[scheme] ? host : `${host}:${port}`;
    const path = c.path === undefined ? ex.path : c.path.apply(ex.path);
    return `${scheme}://${authority}${path}`;
  }
}

/** Host header without its port (IPv6 literals keep their brackets). */
function hostOnly(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
