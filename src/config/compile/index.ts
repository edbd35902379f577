// compile(): raw resources → validated resources → immutable Snapshot, diagnostics and status.
// Pure and synchronous: no I/O, no clocks, deterministic for the same input.
import { type Diagnostic, resourceDiagnostic, sortDiagnostics } from '../diagnostics.js';
import type { MeshConfig } from '../model/mesh-config.js';
import type { RawResource } from '../resource.js';
import type { ClusterConfig, ListenerConfig, ServiceConfig, Snapshot, WaypointRef } from '../snapshot.js';
import type { ConfigStatus, GatewayStatus, ServiceBindingStatus } from '../status.js';
import { condition } from '../status.js';
import { validateResources, type ValidResources } from '../validate/validate.js';
import { enrollmentOf } from './enrollment.js';
import { compileHttpRoutes, type RankedEntry } from './http-routes.js';
import type { FilterStage } from './port-filters.js';
import { buildClusters, buildServiceConfig } from './services.js';
import { selectWaypoint, waypointGatewayStatus } from './waypoint.js';

export interface CompileOptions {
  /** `namespace/name` of the waypoint Gateway to serve (`--waypoint`). */
  readonly waypoint: string | undefined;
  readonly clusterDomain: string;
  readonly version: number;
  /** Mesh-wide settings (`--mesh-config`); Istio's defaults (DEFAULT_MESH_CONFIG) when absent. */
  readonly mesh?: MeshConfig;
}

export type CompileResult = (
  | { readonly ok: true; readonly snapshot: Snapshot; readonly diagnostics: ReadonlyArray<Diagnostic> }
  /** Nothing servable compiled (no waypoint): the caller keeps its last good snapshot. */
  | { readonly ok: false; readonly diagnostics: ReadonlyArray<Diagnostic>; readonly status: ConfigStatus }
) & {
  /** Resources rejected by validation, so a caller can keep serving their previous version. */
  readonly rejected: ReadonlyArray<RawResource>;
};

const LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function compile(raw: ReadonlyArray<RawResource>, options: CompileOptions): CompileResult {
  const validated = validateResources(raw);
  const diagnostics: Diagnostic[] = [...validated.diagnostics];
  return { ...compileValid(validated.resources, options, diagnostics), rejected: validated.rejected };
}

type Compiled =
  | { readonly ok: true; readonly snapshot: Snapshot; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly ok: false; readonly diagnostics: ReadonlyArray<Diagnostic>; readonly status: ConfigStatus };

function compileValid(resources: ValidResources, options: CompileOptions, diagnostics: Diagnostic[]): Compiled {
  const selection = selectWaypoint(resources.gateways, options.waypoint);
  const waypointKey = selection.ok ? selection.gateway.key : undefined;
  const clusters = buildClusters(resources, options.clusterDomain);
  const bindings = new Map<string, string | undefined>();
  for (const svc of resources.services.values()) bindings.set(svc.key, enrollmentOf(svc, resources).waypoint);
  const routes = compileHttpRoutes(resources.httpRoutes, {
    services: resources.services,
    gateways: resources.gateways,
    bindings,
    backends: {
      cluster: (key, port) => clusters.get(key)?.get(port),
      hasService: (key) => clusters.has(key),
      grants: resources.referenceGrants,
      clusterDomain: options.clusterDomain,
    },
  }, diagnostics);

  const gateways: GatewayStatus[] = [];
  const services = new Map<string, ServiceConfig>();
  const listeners = new Map<string, ListenerConfig>();
  const serviceStatus: ServiceBindingStatus[] = [];
  if (selection.ok) {
    gateways.push(waypointGatewayStatus(selection.gateway, selection.servesServices, diagnostics));
    const gatewayEntries: RankedEntry[] = [];
    for (const a of routes.attachments) if (a.target.kind === 'gateway' && a.target.gateway === waypointKey) gatewayEntries.push(...a.entries);
    // Port-level filter stages in Istio's waypoint order (see port-filters.ts); each compiles its policies once.
    const stages: FilterStage[] = [];
    for (const svc of [...resources.services.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      const bound = bindings.get(svc.key);
      // GEP-1294: ExternalName Services "SHOULD NOT be allowed as parentRefs"; the waypoint does not serve them.
      const served = bound !== undefined && bound === waypointKey && selection.servesServices && svc.spec.type !== 'ExternalName';
      serviceStatus.push(bindingStatus(svc.key, bound, enrollmentOf(svc, resources).source, served, waypointKey));
      if (svc.spec.type === 'ExternalName' && bound === waypointKey) {
        diagnostics.push(resourceDiagnostic(svc.raw, 'warning', 'unsupported-service', ['spec', 'type'], 'ExternalName Services are not served by a waypoint'));
      }
      if (!served) continue;
      const config = buildServiceConfig(svc, clusters, routes.attachments, gatewayEntries, options.clusterDomain, stages, diagnostics);
      services.set(svc.key, config);
      addListeners(config, listeners, diagnostics, svc.raw);
    }
  } else {
    diagnostics.push({ severity: 'error', code: 'no-waypoint', resource: undefined, file: undefined, doc: undefined, line: undefined, path: undefined, message: selection.message });
  }
  const status: ConfigStatus = Object.freeze({ routes: routes.statuses, gateways, services: serviceStatus });
  const sorted = sortDiagnostics(diagnostics);
  if (!selection.ok) return { ok: false, diagnostics: sorted, status };
  const allClusters = new Map<string, ClusterConfig>();
  for (const ports of clusters.values()) for (const c of ports.values()) allClusters.set(c.id, c);
  const waypoint: WaypointRef = { namespace: selection.gateway.raw.metadata.namespace, name: selection.gateway.raw.metadata.name };
  const snapshot: Snapshot = Object.freeze({
    version: options.version,
    waypoint: Object.freeze(waypoint),
    listeners,
    services,
    clusters: allClusters,
    status,
    diagnostics: Object.freeze(sorted),
  });
  return { ok: true, snapshot, diagnostics: sorted };
}

function addListeners(config: ServiceConfig, listeners: Map<string, ListenerConfig>, diagnostics: Diagnostic[], raw: RawResource): void {
  const vip = config.vip;
  if (vip === undefined) return;
  if (!LOOPBACK.test(vip)) {
    diagnostics.push(resourceDiagnostic(raw, 'info', 'vip-not-local', ['spec', 'clusterIP'],
      `clusterIP ${vip} is not a loopback address, so no local listener is bound; traffic reaches this Service through HBONE`));
    return;
  }
  for (const port of config.ports) {
    const key = `${vip}:${port.port}`;
    const taken = listeners.get(key);
    if (taken !== undefined) {
      diagnostics.push(resourceDiagnostic(raw, 'error', 'duplicate-vip', ['spec', 'clusterIP'],
        `${key} is already the VIP of Service ${taken.service.key}; give this Service another clusterIP in 127.0.0.0/8`));
      continue;
    }
    listeners.set(key, Object.freeze({ key, address: vip, port: port.port, service: config, servicePort: port }));
  }
}

function bindingStatus(service: string, waypoint: string | undefined, source: 'service' | 'namespace' | 'none', served: boolean, ours: string | undefined): ServiceBindingStatus {
  const conditions = waypoint === undefined
    ? []
    : [served
      ? condition('istio.io/WaypointBound', 'True', 'WaypointAccepted', `Successfully attached to waypoint ${waypoint}`, undefined)
      : condition('istio.io/WaypointBound', 'False', 'WaypointNotFound', waypoint === ours ? `waypoint ${waypoint} does not accept Service traffic (istio.io/waypoint-for)` : `bound to waypoint ${waypoint}, which this process does not serve`, undefined)];
  return { service, waypoint, source, servedHere: served, conditions };
}
