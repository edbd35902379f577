// Services: clusters for every Service port, and the ServiceConfig of each Service this waypoint serves.
import { EMPTY_CHAIN } from '../../filters/types.js';
import { MATCH_EVERYTHING } from '../../router/match/http-match.js';
import { sortByPrecedence } from '../../router/precedence.js';
import { buildRoutingIndex } from '../../router/route-index.js';
import { weightedBackends } from './backends.js';
import { compileLb, type DestinationRulePolicies, NO_DESTINATION_RULES } from './destination-rules.js';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { ServiceSpec } from '../model/core.js';
import type { ClusterConfig, HttpRouting, RouteEntry, ServiceConfig, ServicePortConfig } from '../snapshot.js';
import type { Valid, ValidResources } from '../validate/validate.js';
import { endpointsFor, slicesByService } from './endpoints.js';
import { markAmbient } from '../../hbone/ambient.js';
import type { Attachment, RankedEntry } from './http-routes.js';
import { type GrpcRoutes, grpcRoutingFor, NO_GRPC_ROUTES } from './grpc-routes.js';
import { type L4Attachment, l4RoutingFor } from './l4-routes.js';
import { buildPortFilters, type FilterStage } from './port-filters.js';
import { clusterProtocolSegment, portProtocol } from './protocol.js';

export type ClusterIndex = ReadonlyMap<string, ReadonlyMap<number, ClusterConfig>>;

/** One cluster per port of every Service (not only enrolled ones: any Service can be a backend). */
export function buildClusters(resources: ValidResources, clusterDomain: string, rules: DestinationRulePolicies = NO_DESTINATION_RULES): ClusterIndex {
  const bySlice = slicesByService(resources.endpointSlices);
  const out = new Map<string, Map<number, ClusterConfig>>();
  for (const svc of resources.services.values()) {
    const hostname = serviceHostname(svc, clusterDomain);
    const ports = new Map<number, ClusterConfig>();
    for (const port of svc.spec.ports) {
      // Only TCP ports are proxied; a UDP port may share the number of a TCP one.
      if (port.protocol !== 'TCP') continue;
      const protocol = portProtocol(port.appProtocol, port.name);
      const endpoints = Object.freeze(markAmbient(endpointsFor(port, bySlice.get(svc.key) ?? []), svc.raw.metadata.namespace, resources).map((e) => Object.freeze(e)));
      const policy = rules(svc.key, port.port);
      ports.set(port.port, Object.freeze({
        id: `inbound-vip|${port.port}|${clusterProtocolSegment(protocol)}|${hostname}`,
        service: svc.key,
        hostname,
        port: port.port,
        protocol,
        endpoints,
        ...(policy?.lb === undefined ? {} : { lb: compileLb(policy.lb, endpoints) }),
        ...(policy?.maxRequests === undefined ? {} : { maxRequests: policy.maxRequests }),
        ...(policy?.outlier === undefined ? {} : { outlier: policy.outlier }),
        ...(policy?.upstream === undefined ? {} : { upstream: policy.upstream }),
      }));
    }
    out.set(svc.key, ports);
  }
  return out;
}

export function serviceHostname(svc: Valid<ServiceSpec>, clusterDomain: string): string {
  return `${svc.raw.metadata.name}.${svc.raw.metadata.namespace}.svc.${clusterDomain}`;
}

/** Route entries attached to a Service port, split into producer and per-namespace consumer groups. */
function routingFor(
  svc: Valid<ServiceSpec>,
  port: number,
  cluster: ClusterConfig,
  attachments: ReadonlyArray<Attachment>,
  gatewayEntries: ReadonlyArray<RankedEntry>,
): HttpRouting {
  const producer: RankedEntry[] = [];
  const consumers = new Map<string, RankedEntry[]>();
  for (const a of attachmentsOf(attachments, svc.key)) {
    const t = a.target;
    if (t.kind !== 'service' || t.service !== svc.key || (t.port !== undefined && t.port !== port)) continue;
    if (t.consumerNamespace === undefined) producer.push(...a.entries);
    else {
      const list = consumers.get(t.consumerNamespace) ?? [];
      list.push(...a.entries);
      consumers.set(t.consumerNamespace, list);
    }
  }
  // Routes attached to the waypoint Gateway apply to every Service it serves that has no route of its own.
  if (producer.length === 0 && consumers.size === 0) {
    if (gatewayEntries.length === 0) return Object.freeze({ kind: 'service-default', cluster });
    producer.push(...gatewayEntries);
  }
  const frozen = new Map<string, ReadonlyArray<RouteEntry>>();
  for (const [ns, list] of [...consumers].sort(([a], [b]) => (a < b ? -1 : 1))) frozen.set(ns, table(list));
  // GEP-1294: consumer routes are "scoped only [to] the same namespace ... another unrelated namespace cannot
  // modify their traffic": clients from other namespaces keep the Service's own routing.
  const producers = producer.length > 0 ? table(producer) : gatewayEntries.length > 0 ? table([...gatewayEntries]) : Object.freeze([serviceDefaultEntry(cluster)]);
  return Object.freeze({ kind: 'routes', producer: producers, consumers: frozen, index: buildRoutingIndex(producers, frozen) });
}

const byService = new WeakMap<ReadonlyArray<Attachment>, ReadonlyMap<string, ReadonlyArray<Attachment>>>();

/** The attachments whose parent is this Service, grouped once per compile: scanning all of them for every
 *  Service port made compile quadratic (10,000 rules on 1,000 Services: a million checks). */
function attachmentsOf(attachments: ReadonlyArray<Attachment>, service: string): ReadonlyArray<Attachment> {
  let groups = byService.get(attachments);
  if (groups === undefined) {
    const g = new Map<string, Attachment[]>();
    for (const a of attachments) {
      if (a.target.kind !== 'service') continue;
      const list = g.get(a.target.service);
      if (list === undefined) g.set(a.target.service, [a]);
      else list.push(a);
    }
    groups = g;
    byService.set(attachments, groups);
  }
  return groups.get(service) ?? [];
}

/** A catch-all entry to the Service's own cluster, for clients no route applies to. */
function serviceDefaultEntry(cluster: ClusterConfig): RouteEntry {
  const entry: RouteEntry = {
    name: 'default',
    route: '',
    ruleIndex: 0,
    matchIndex: 0,
    match: MATCH_EVERYTHING,
    matchSpec: { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] },
    hostnames: null,
    filters: EMPTY_CHAIN,
    action: { kind: 'forward', backends: weightedBackends([{ kind: 'cluster', weight: 1, cluster }]) },
  };
  return Object.freeze(entry);
}

function table(entries: RankedEntry[]): ReadonlyArray<RouteEntry> {
  return Object.freeze(sortByPrecedence(entries).map((e) => e.entry));
}

export function buildServiceConfig(
  svc: Valid<ServiceSpec>,
  clusters: ClusterIndex,
  attachments: ReadonlyArray<Attachment>,
  gatewayEntries: ReadonlyArray<RankedEntry>,
  clusterDomain: string,
  stages: ReadonlyArray<FilterStage>,
  diagnostics: Diagnostic[],
  l4Attachments: ReadonlyArray<L4Attachment> = [],
  grpcRoutes: GrpcRoutes = NO_GRPC_ROUTES,
): ServiceConfig {
  const ports: ServicePortConfig[] = [];
  const identity = { key: svc.key, namespace: svc.raw.metadata.namespace, name: svc.raw.metadata.name, hostname: serviceHostname(svc, clusterDomain) };
  const own = clusters.get(svc.key);
  svc.spec.ports.forEach((p, i) => {
    if (p.protocol !== 'TCP') {
      diagnostics.push(resourceDiagnostic(svc.raw, 'warning', 'unsupported-protocol', ['spec', 'ports', i, 'protocol'], `${p.protocol} ports are not proxied by the waypoint`));
      return;
    }
    const cluster = own?.get(p.port);
    if (cluster === undefined) return;
    ports.push(Object.freeze({
      name: p.name ?? '',
      port: p.port,
      protocol: cluster.protocol,
      cluster,
      // GEP-1294: GRPCRoute > HTTPRoute on the same Service port.
      http: grpcRoutingFor(grpcRoutes, svc.key, p.port, attachments) ?? routingFor(svc, p.port, cluster, attachments, gatewayEntries),
      filters: buildPortFilters({ service: identity, port: p.port }, stages),
      l4: l4RoutingFor(svc.key, p.port, cluster.protocol, cluster, l4Attachments, diagnostics),
    }));
  });
  const ip = svc.spec.clusterIP;
  return Object.freeze({
    ...identity,
    vip: ip === undefined || ip === '' || ip === 'None' ? undefined : ip,
    ports: Object.freeze(ports),
  });
}
