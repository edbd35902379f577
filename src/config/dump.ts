// The one serializer of a snapshot: served by /config_dump and written to golden files, so what
// tests pin is exactly what operators see.
import { dumpL4Routing } from '../l4/l4-dump.js';
import { describeFilters } from './compile/route-filters.js';
import { describePolicy } from './compile/route-policy.js';
import { dumpWasmPort } from './compile/wasm-plugins-dump.js';
import type { Diagnostic } from './diagnostics.js';
import { describeLb } from '../upstream/lb/describe-lb.js';
import type { ClusterConfig, HttpRouting, RouteAction, RouteEntry, Snapshot } from './snapshot.js';
import type { ConfigStatus } from './status.js';
import { describeUpstream } from '../upstream/describe-upstream.js';

export interface ConfigDump {
  readonly version: number;
  readonly waypoint: string | null;
  readonly listeners: ReadonlyArray<unknown>;
  readonly services: ReadonlyArray<unknown>;
  readonly clusters: ReadonlyArray<unknown>;
  readonly status: ConfigStatus;
  readonly diagnostics: ReadonlyArray<Diagnostic>;
  /** AuthorizationPolicies as compiled: where each applies and its rule ids (absent when there are none). */
  readonly authorization?: ReadonlyArray<unknown>;
}

export function dumpSnapshot(s: Snapshot): ConfigDump {
  return {
    version: s.version,
    waypoint: s.waypoint === undefined ? null : `${s.waypoint.namespace}/${s.waypoint.name}`,
    listeners: sortedBy([...s.listeners.values()], (l) => l.key).map((l) => ({
      address: l.key,
      service: l.service.key,
      port: l.servicePort.name === '' ? l.port : `${l.port} (${l.servicePort.name})`,
      protocol: l.servicePort.protocol,
      ...(l.tunnelOnly === true ? { bind: 'hbone-only' } : {}),
      ...(l.workload === undefined ? {} : { workload: l.workload, cluster: l.servicePort.cluster.id }),
    })),
    services: sortedBy([...s.services.values()], (v) => v.key).map((v) => ({
      service: v.key,
      hostname: v.hostname,
      vip: v.vip ?? null,
      ports: v.ports.map((p) => ({ port: p.port, name: p.name, protocol: p.protocol, cluster: p.cluster.id, routing: dumpRouting(p.http), ...dumpL4Routing(p.l4), ...dumpWasmPort(s.wasm, v.key, p) })),
    })),
    clusters: sortedBy([...s.clusters.values()], (c) => c.id).map(dumpCluster),
    status: s.status,
    diagnostics: s.diagnostics,
    ...(s.authorization === undefined ? {} : { authorization: s.authorization }),
  };
}

function dumpRouting(r: HttpRouting): unknown {
  if (r.kind === 'service-default') return { kind: 'service-default', cluster: r.cluster.id };
  const consumers: Record<string, unknown> = {};
  for (const [ns, table] of r.consumers) consumers[ns] = table.map(dumpEntry);
  return { kind: 'routes', producer: r.producer.map(dumpEntry), consumers };
}

function dumpEntry(e: RouteEntry): unknown {
  return {
    name: e.name,
    route: e.route,
    rule: e.ruleIndex,
    match: e.matchIndex,
    // VirtualService entries show their own match (VS semantics), not the HTTPRoute placeholder.
    ...(e.virtualService === undefined ? { when: e.matchSpec } : { virtualService: true, when: e.virtualService.match ?? {} }),
    ...(e.hostnames === null ? {} : { hostnames: e.hostnames }),
    ...(e.grpc === undefined ? {} : { grpc: e.grpc }),
    ...(e.filters.length === 0 ? {} : { filters: describeFilters(e.filters) }),
    action: dumpAction(e.action),
  };
}

function dumpAction(a: RouteAction): unknown {
  if (a.kind === 'direct') return { direct: a.status, details: a.details };
  return {
    backends: a.backends.targets.map((t) => (t.kind !== 'cluster'
      ? { invalid: t.reason, weight: t.weight }
      : { cluster: t.cluster.id, weight: t.weight, ...(t.filters === undefined || t.filters.length === 0 ? {} : { filters: describeFilters(t.filters) }) })),
    ...(a.policy === undefined ? {} : describePolicy(a.policy)),
  };
}

function dumpCluster(c: ClusterConfig): unknown {
  return {
    id: c.id,
    service: c.service,
    protocol: c.protocol,
    endpoints: c.endpoints.map((e) => ({
      address: e.key,
      ...(e.workload === undefined ? {} : { workload: e.workload }),
      ...(e.hbone === undefined ? {} : { hbone: { namespace: e.hbone.namespace, serviceAccount: e.hbone.serviceAccount ?? '*' } }),
    })),
    ...(c.lb === undefined ? {} : { lbPolicy: describeLb(c.lb) }),
    ...(c.maxRequests === undefined ? {} : { circuitBreakers: { maxRequests: c.maxRequests } }),
    ...(c.outlier === undefined ? {} : { outlierDetection: c.outlier }),
    ...(c.upstream === undefined ? {} : describeUpstream(c.upstream)),
  };
}

function sortedBy<T>(items: T[], key: (t: T) => string): T[] {
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
