// Route selection for one request: the consumer routes of the client's namespace if any, else the
// producer routes, first match in precedence order (tables are sorted and indexed at compile time).
import type { HttpRouting, RouteEntry } from '../config/snapshot.js';
import type { RequestView } from '../router/request-view.js';
import { selectRouteEntry } from '../router/route-select.js';

export function selectRoute(routing: HttpRouting & { kind: 'routes' }, view: RequestView, sourceNamespace: string | undefined): RouteEntry | undefined {
  return selectRouteEntry(routing, view, sourceNamespace);
}
