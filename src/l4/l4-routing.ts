// Compiled L4 routing of one Service port (TLSRoute / TCPRoute), and its lookup on the connection path:
// the client's route group (GEP-1294), then, for TLS, the route for the ClientHello's SNI.
import type { ClusterConfig, WeightedBackends } from '../config/snapshot.js';

/** The one effective rule of a TLSRoute or TCPRoute on a Service port (L4 rules have no matches). */
export interface L4RouteEntry {
  /** `namespace.name.0` (or the rule's own name), as Istio names route entries. */
  readonly name: string;
  /** `namespace/name` of the route. */
  readonly route: string;
  readonly kind: 'TLSRoute' | 'TCPRoute';
  /** Weighted per connection; `total` 0 means every connection is rejected. */
  readonly backends: WeightedBackends;
}

/** TLSRoute hostnames of one route group: exact names first, then `*.` wildcards, longest suffix first. */
export interface SniTable {
  /** Lower-cased exact hostnames. */
  readonly exact: ReadonlyMap<string, L4RouteEntry>;
  /** `*.example.com` stored as the suffix `.example.com`; sorted longest first. */
  readonly wildcards: ReadonlyArray<{ readonly suffix: string; readonly entry: L4RouteEntry }>;
}

export type L4Table =
  /** No TLSRoute or TCPRoute in the group: the connection goes to the Service's own endpoints. */
  | { readonly kind: 'service-default'; readonly cluster: ClusterConfig }
  /** A TCPRoute: every connection takes its rule. */
  | { readonly kind: 'tcp'; readonly entry: L4RouteEntry }
  /** TLSRoutes: the ClientHello's SNI selects the route; no match closes the connection. */
  | { readonly kind: 'tls'; readonly sni: SniTable };

export interface L4Routing {
  /** Producer routes (same namespace as the Service); `service-default` when there are none. */
  readonly producer: L4Table;
  /** Consumer routes keyed by the client namespace they apply to (GEP-1294). */
  readonly consumers: ReadonlyMap<string, L4Table>;
}

/** GEP-1294: the consumer routes of the client's namespace take precedence; groups never merge. */
export function selectL4Table(routing: L4Routing, sourceNamespace: string | undefined): L4Table {
  if (sourceNamespace === undefined || routing.consumers.size === 0) return routing.producer;
  return routing.consumers.get(sourceNamespace) ?? routing.producer;
}

/**
 * The route for a (lower-cased) SNI: an exact hostname, else the longest matching `*.` wildcard. A wildcard
 * matches any deeper name but not its apex (`*.example.com` matches `a.b.example.com`, not `example.com`),
 * as Envoy's filter chain `server_names` matching does.
 */
export function selectSniRoute(table: SniTable, sni: string | undefined): L4RouteEntry | undefined {
  if (sni === undefined) return undefined;
  const exact = table.exact.get(sni);
  if (exact !== undefined) return exact;
  const wildcards = table.wildcards;
  for (let i = 0; i < wildcards.length; i++) {
    const w = wildcards[i] as { readonly suffix: string; readonly entry: L4RouteEntry };
    if (sni.length > w.suffix.length && sni.endsWith(w.suffix)) return w.entry;
  }
  return undefined;
}
