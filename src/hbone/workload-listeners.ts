// Workload-addressed traffic: HBONE CONNECTs whose `:authority` is a Pod's own `ip:port`, for Pods that use
// this waypoint (`istio.io/use-waypoint` on the Pod or its Namespace) when the waypoint accepts workload
// traffic (`istio.io/waypoint-for: workload|all`). Compiled into tunnel-only listeners keyed `podIP:port`.
//
// What Istio does, and this follows (pilot listener_waypoint.go, "direct pod access" chains): the waypoint
// matches the destination IP against its workloads' addresses, sniffs HTTP vs TCP (here: the port's declared
// protocol when every Service port targeting it agrees, else sniffed as well), runs the HTTP filters
// built *without* a Service (so only policies that target the waypoint Gateway / GatewayClass apply, not
// Service-targeted ones), and routes everything to the `encap` original-destination cluster: the backend is
// the very `ip:port` the client asked for. HTTPRoutes of the Pod's Services do not apply ("Policy binding via
// VIP+Host is inapplicable for direct pod access"). The Pod's Service, when one served here selects it, only
// lends its name to telemetry (destination_service), so workload-addressed requests are still measured.
import net from 'node:net';
import type { FilterStage } from '../config/compile/port-filters.js';
import { buildPortFilters } from '../config/compile/port-filters.js';
import { enrollmentOf } from '../config/compile/enrollment.js';
import { WAYPOINT_FOR } from '../config/compile/waypoint.js';
import { type Diagnostic, resourceDiagnostic } from '../config/diagnostics.js';
import type { PodSpec } from '../config/model/pod.js';
import type { ClusterConfig, EndpointConfig, ListenerConfig, PortProtocol, ServiceConfig, ServicePortConfig } from '../config/snapshot.js';
import type { Valid, ValidResources } from '../config/validate/validate.js';
import { markAmbient } from './ambient.js';

/** Istio's name for the original-destination cluster of direct pod access (`EncapClusterName`). */
export const ENCAP_CLUSTER = 'encap';

export interface WorkloadListenerInput {
  readonly resources: ValidResources;
  /** `namespace/name` of this waypoint and its `istio.io/waypoint-for` label. */
  readonly waypointKey: string;
  readonly waypointLabels: Readonly<Record<string, string>>;
  /** Every Service port's cluster (their endpoints name Pods); the ServiceConfigs this waypoint serves. */
  readonly clusters: Iterable<ReadonlyMap<number, ClusterConfig>>;
  readonly services: ReadonlyMap<string, ServiceConfig>;
  readonly stages: ReadonlyArray<FilterStage>;
}

/** The waypoint accepts workload-addressed traffic only with `istio.io/waypoint-for` `workload` or `all`. */
export function servesWorkloads(labels: Readonly<Record<string, string>>): boolean {
  const v = (labels[WAYPOINT_FOR] ?? 'service').toLowerCase();
  return v === 'workload' || v === 'all';
}

interface Destination {
  readonly pod: Valid<PodSpec>;
  readonly address: string;
  readonly port: number;
  /** Service port clusters whose endpoints include this `ip:port`. */
  readonly owners: ClusterConfig[];
  endpoint: EndpointConfig | undefined;
}

/** Adds a tunnel-only listener for every `podIP:port` of every Pod that sends its workload traffic here. */
export function addWorkloadListeners(input: WorkloadListenerInput, listeners: Map<string, ListenerConfig>, diagnostics: Diagnostic[]): void {
  if (!servesWorkloads(input.waypointLabels)) return;
  const pods = new Map<string, Valid<PodSpec>>();
  // A Pod's own istio.io/use-waypoint, else its Namespace's: the same labels and precedence as for Services.
  for (const pod of input.resources.pods.values()) if (enrollmentOf(pod, input.resources).waypoint === input.waypointKey) pods.set(pod.key, pod);
  if (pods.size === 0) return;
  const destinations = new Map<string, Destination>();
  const add = (pod: Valid<PodSpec>, address: string, port: number): Destination => {
    const key = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    let d = destinations.get(key);
    if (d === undefined) {
      d = { pod, address, port, owners: [], endpoint: undefined };
      destinations.set(key, d);
    }
    return d;
  };
  // Addresses and ports from the EndpointSlices that name the Pod (the Service's resolved target ports)...
  for (const ports of input.clusters) {
    for (const cluster of ports.values()) {
      for (const e of cluster.endpoints) {
        const pod = e.workload?.startsWith('Pod ') === true ? pods.get(e.workload.slice(4)) : undefined;
        if (pod === undefined) continue;
        const d = add(pod, e.address, e.port);
        d.owners.push(cluster);
        d.endpoint ??= e;
      }
    }
  }
  // ...and from the Pod itself: `status.podIPs` with each container port.
  for (const pod of pods.values()) for (const ip of podIps(pod)) for (const port of containerPorts(pod)) add(pod, ip, port);

  for (const [key, d] of [...destinations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const taken = listeners.get(key);
    if (taken !== undefined) {
      diagnostics.push(resourceDiagnostic(d.pod.raw, 'warning', 'duplicate-address', ['metadata', 'name'],
        `${key} is also the VIP of Service ${taken.service.key}; CONNECTs to it reach the Service, not this Pod`));
      continue;
    }
    listeners.set(key, workloadListener(key, d, input));
  }
}

function workloadListener(key: string, d: Destination, input: WorkloadListenerInput): ListenerConfig {
  const ns = d.pod.raw.metadata.namespace;
  const workload = `Pod ${d.pod.key}`;
  const endpoint = d.endpoint ?? markAmbient([{ key, address: d.address, port: d.port, workload }], ns, input.resources)[0] ?? { key, address: d.address, port: d.port, workload };
  // Istio sniffs direct pod traffic; when every Service port targeting this port declares one protocol, it is used.
  const declared = new Set(d.owners.map((c) => c.protocol));
  const protocol: PortProtocol = declared.size === 1 ? [...declared][0] ?? 'unknown' : 'unknown';
  const served = d.owners.map((c) => input.services.get(c.service)).find((s) => s !== undefined);
  const service: ServiceConfig = served ?? Object.freeze({
    key: `pod:${d.pod.key}`, namespace: ns, name: d.pod.raw.metadata.name, hostname: key, vip: undefined, ports: Object.freeze([]),
  });
  const cluster: ClusterConfig = Object.freeze({
    id: ENCAP_CLUSTER, service: service.key, hostname: service.hostname, port: d.port, protocol, endpoints: Object.freeze([Object.freeze(endpoint)]),
  });
  const port: ServicePortConfig = Object.freeze({
    name: '',
    port: d.port,
    protocol,
    cluster,
    http: Object.freeze({ kind: 'service-default', cluster }),
    // No Service: only the waypoint-wide policies (targetRefs Gateway / GatewayClass), as Istio builds them with svc=nil.
    filters: buildPortFilters({ service: { key: '', namespace: ns, name: '', hostname: key }, port: d.port }, input.stages),
    l4: Object.freeze({ producer: Object.freeze({ kind: 'service-default', cluster }), consumers: new Map() }),
  });
  return Object.freeze({ key, address: d.address, port: d.port, service, servicePort: port, tunnelOnly: true as const, workload });
}

function podIps(pod: Valid<PodSpec>): string[] {
  const status = record(pod.raw.object['status']);
  const out = new Set<string>();
  const ip = status?.['podIP'];
  if (typeof ip === 'string') out.add(ip);
  const list = status?.['podIPs'];
  if (Array.isArray(list)) for (const item of list) {
    const v = record(item)?.['ip'];
    if (typeof v === 'string') out.add(v);
  }
  return [...out].filter((a) => net.isIP(a) !== 0);
}

function containerPorts(pod: Valid<PodSpec>): number[] {
  const out = new Set<number>();
  const containers = (pod.spec as Record<string, unknown>)['containers'];
  if (!Array.isArray(containers)) return [];
  for (const c of containers) {
    const ports = record(c)?.['ports'];
    if (!Array.isArray(ports)) continue;
    for (const p of ports) {
      const n = record(p)?.['containerPort'];
      const proto = record(p)?.['protocol'];
      if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535 && (proto === undefined || proto === 'TCP')) out.add(n);
    }
  }
  return [...out];
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
