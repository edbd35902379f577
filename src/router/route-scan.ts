// First-match route selection by scanning a table in order: the definition of the selection the route
// index must reproduce (its equivalence test uses this as the reference), and the path for unindexed tables.
import type { RouteEntry } from '../config/snapshot.js';
import type { RequestView } from './request-view.js';
import { hostMatches, hostWithoutPort } from './hostnames.js';

/** The first entry of `table` whose hostnames (if any) and match accept the request. */
export function scanRoutes(table: ReadonlyArray<RouteEntry>, view: RequestView): RouteEntry | undefined {
  let host: string | undefined;
  for (let i = 0; i < table.length; i++) {
    const entry = table[i] as RouteEntry;
    if (entry.hostnames !== null) {
      host ??= hostWithoutPort(view.header('host') ?? '');
      if (!hostMatches(entry.hostnames, host)) continue;
    }
    if (entry.match.test(view)) return entry;
  }
  return undefined;
}
