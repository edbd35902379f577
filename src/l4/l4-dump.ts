// /config_dump view of a Service port's L4 routing (TLSRoute/TCPRoute). Ports without L4 routes add
// nothing, so dumps of HTTP-only configurations are unchanged.
import type { WeightedBackends } from '../config/snapshot.js';
import type { L4RouteEntry, L4Routing, L4Table } from './l4-routing.js';

/** `{ l4: ... }` to spread into a port's dump, or `{}` when the port has no TLSRoute/TCPRoute. */
export function dumpL4Routing(r: L4Routing): { readonly l4?: unknown } {
  if (r.producer.kind === 'service-default' && r.consumers.size === 0) return {};
  const consumers: Record<string, unknown> = {};
  for (const [ns, table] of r.consumers) consumers[ns] = dumpTable(table);
  return { l4: { producer: dumpTable(r.producer), consumers } };
}

function dumpTable(t: L4Table): unknown {
  switch (t.kind) {
    case 'service-default':
      return { kind: 'service-default', cluster: t.cluster.id };
    case 'tcp':
      return { kind: 'tcp', route: dumpEntry(t.entry) };
    case 'tls': {
      const sni: Record<string, unknown> = {};
      for (const [host, entry] of t.sni.exact) sni[host] = dumpEntry(entry);
      for (const w of t.sni.wildcards) sni[`*${w.suffix}`] = dumpEntry(w.entry);
      return { kind: 'tls', sni };
    }
  }
}

function dumpEntry(e: L4RouteEntry): unknown {
  return { name: e.name, route: e.route, kind: e.kind, backends: dumpBackends(e.backends) };
}

function dumpBackends(b: WeightedBackends): unknown {
  return b.targets.map((t) => (t.kind === 'cluster' ? { cluster: t.cluster.id, weight: t.weight } : { invalid: t.reason, weight: t.weight }));
}
