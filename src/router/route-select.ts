// Route selection for one request on a Service port: the consumer table of the client's namespace if any,
// else the producer table; through the table's compiled index when it has one, else by scanning it.
import type { HttpRouting, RouteEntry } from '../config/snapshot.js';
import type { RouteIndex } from './route-index.js';
import { scanRoutes } from './route-scan.js';
import type { RequestView } from './request-view.js';

export function selectRouteEntry(routing: HttpRouting & { kind: 'routes' }, view: RequestView, sourceNamespace: string | undefined): RouteEntry | undefined {
  const index = routing.index;
  // GEP-1294: consumer routes for the client's namespace take precedence; the groups never merge.
  if (sourceNamespace !== undefined && routing.consumers.size > 0) {
    const table = routing.consumers.get(sourceNamespace);
    if (table !== undefined) return selectIn(table, index?.consumers.get(sourceNamespace), view);
  }
  return selectIn(routing.producer, index?.producer, view);
}

function selectIn(table: ReadonlyArray<RouteEntry>, index: RouteIndex | undefined, view: RequestView): RouteEntry | undefined {
  // The identity check keeps a routing copied with a replaced table (`{ ...routing, producer }`) correct.
  return index !== undefined && index.table === table ? index.select(view) : scanRoutes(table, view);
}
