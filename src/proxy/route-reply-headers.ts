// Route-level response filters on the waypoint's own replies once a route was chosen (a redirect, a CORS
// preflight, a 504, a 503): Envoy applies a route's response header edits to those too.
import type { LocalReply } from '../errors/local-reply.js';
import { HeaderList } from '../http/header-list.js';
import type { HttpExchange } from './http-exchange.js';

export function withRouteResponseHeaders(ex: HttpExchange, reply: LocalReply): LocalReply {
  const route = ex.route;
  if (route === undefined || (route.filters.length === 0 && ex.backendFilters.length === 0)) return reply;
  const list = new HeaderList([...(reply.headers ?? [])]);
  // Encoder order, as for upstream responses: backendRef filters, then the rule's, each in reverse.
  for (const chain of [ex.backendFilters, route.filters]) {
    for (let i = chain.length - 1; i >= 0; i--) chain[i]?.onResponseHeaders?.(ex, list);
  }
  return list.modified ? Object.freeze({ ...reply, headers: Object.freeze(list.fields) }) : reply;
}
