// Route selection for one request: the consumer routes of the client's namespace if any, else the
// producer routes, first match in precedence order (tables are sorted at compile time).
import type { HttpRouting, RouteEntry } from '../config/snapshot.js';
import type { RequestView } from '../router/request-view.js';

export function selectRoute(routing: HttpRouting & { kind: 'routes' }, view: RequestView, sourceNamespace: string | undefined): RouteEntry | undefined {
  // GEP-1294: consumer routes for the client's namespace take precedence; the groups never merge.
  const table = (sourceNamespace !== undefined ? routing.consumers.get(sourceNamespace) : undefined) ?? routing.producer;
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

function hostWithoutPort(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

/** Gateway API hostnames: exact, or `*.example.com` matching any subdomain (not the apex). */
function hostMatches(hostnames: ReadonlyArray<string>, host: string): boolean {
  for (const h of hostnames) {
    if (h.startsWith('*.') ? host.endsWith(h.slice(1)) && host.length > h.length - 1 : h === host) return true;
  }
  return false;
}
