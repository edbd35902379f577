// compile(): raw resources → validated resources → immutable Snapshot, diagnostics and status.
// Pure and synchronous: no I/O, no clocks, deterministic for the same input.
import { type Diagnostic, resourceDiagnostic, sortDiagnostics } from '../diagnostics.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../model/mesh-config.js';
import type { JwksResolver } from '../../security/jwt/jwks-resolver.js';
import { jwtAuthnStage } from '../../security/jwt/jwt-filter-stage.js';
import { compileAuthorization } from '../../security/authz/compile-authorization.js';
import type { RawResource } from '../resource.js';
import type { ClusterConfig, ListenerConfig, ServiceConfig, Snapshot, WaypointRef } from '../snapshot.js';
import type { ConfigStatus, GatewayStatus, ServiceBindingStatus } from '../status.js';
import { condition } from '../status.js';
import { validateResources, type ValidResources } from '../validate/validate.js';
import { destinationRulePolicies } from './destination-rules.js';
import { enrollmentOf } from './enrollment.js';
import { compileHttpRoutes, type HttpRouteContext, type RankedEntry } from './http-routes.js';
import { compileGrpcRoutes, conflictedHttpRouteStatuses } from './grpc-routes.js';
import { compileL4Routes, type HttpClaim } from './l4-routes.js';
import type { FilterStage } from './port-filters.js';
import { buildClusters, buildServiceConfig } from './services.js';
import { TelemetryCompiler } from './telemetry.js';
import { selectWaypoint, waypointGatewayStatus } from './waypoint.js';

export interface CompileOptions {
  /** `namespace/name` of the waypoint Gateway to serve (`--waypoint`). */
  readonly waypoint: string | undefined;
  readonly clusterDomain: string;
  readonly version: number;
  /** Mesh-wide settings (`--mesh-config`); Istio's defaults (DEFAULT_MESH_CONFIG) when absent. */
  readonly mesh?: MeshConfig;
  /**
   * Runtime JWKS cache the JWT filters hold (RequestAuthentication `jwksUri` / OpenID discovery); compile
   * only passes the reference, all fetching happens at request time. Absent (validate, goldens): fails closed.
   */
  readonly jwks?: JwksResolver;
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
  return { ...compileValid(validated.resources, options, diagnostics, validated.rejected), rejected: validated.rejected };
}

type Compiled =
  | { readonly ok: true; readonly snapshot: Snapshot; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly ok: false; readonly diagnostics: ReadonlyArray<Diagnostic>; readonly status: ConfigStatus };

function compileValid(resources: ValidResources, options: CompileOptions, diagnostics: Diagnostic[], rejected: ReadonlyArray<RawResource>): Compiled {
  const selection = selectWaypoint(resources.gateways, options.waypoint);
  const waypointKey = selection.ok ? selection.gateway.key : undefined;
  const clusters = buildClusters(resources, options.clusterDomain, destinationRulePolicies(resources, options.clusterDomain, diagnostics));
  const bindings = new Map<string, string | undefined>();
  for (const svc of resources.services.values()) bindings.set(svc.key, enrollmentOf(svc, resources).waypoint);
  const routeContext: HttpRouteContext = {
    services: resources.services,
    gateways: resources.gateways,
    bindings,
    backends: {
      cluster: (key, port) => clusters.get(key)?.get(port),
      hasService: (key) => clusters.has(key),
      grants: resources.referenceGrants,
      clusterDomain: options.clusterDomain,
    },
  };
  const routes = compileHttpRoutes(resources.httpRoutes, routeContext, diagnostics);
  const allGrpc = compileGrpcRoutes(resources.grpcRoutes, routeContext, diagnostics);
  // Only Service parents and this waypoint's Gateway count for routing and for GRPCRoute > HTTPRoute conflicts.
  const grpcRoutes = { ...allGrpc, attachments: allGrpc.attachments.filter((a) => a.target.kind === 'service' || a.target.gateway === waypointKey) };
  // HTTPRoutes and GRPCRoutes take precedence over TLS/TCP routes on the same Service port (GEP-1294).
  const httpClaims: HttpClaim[] = [];
  for (const a of [...routes.attachments, ...grpcRoutes.attachments]) {
    if (a.target.kind === 'service') httpClaims.push({ service: a.target.service, port: a.target.port, consumerNamespace: a.target.consumerNamespace });
  }
  const l4Routes = compileL4Routes(resources.tlsRoutes, resources.tcpRoutes, routeContext, diagnostics, httpClaims);
  const httpStatuses = conflictedHttpRouteStatuses(routes.statuses, resources.httpRoutes, grpcRoutes, routeContext, diagnostics);

  const gateways: GatewayStatus[] = [];
  const services = new Map<string, ServiceConfig>();
  const listeners = new Map<string, ListenerConfig>();
  const serviceStatus: ServiceBindingStatus[] = [];
  let telemetry: TelemetryCompiler | undefined;
  // AuthorizationPolicy: attachment, status and the CUSTOM / RBAC port stages (src/security/authz).
  const authz = compileAuthorization({
    policies: resources.authorizationPolicies, rejected: rejected.filter((r) => r.kind === 'AuthorizationPolicy'),
    rootNamespace: (options.mesh ?? DEFAULT_MESH_CONFIG).rootNamespace, services: resources.services, gateways: resources.gateways, bindings,
    waypoint: selection.ok ? { key: selection.gateway.key, servesServices: selection.servesServices } : undefined,
    mesh: options.mesh ?? DEFAULT_MESH_CONFIG,
    clusters: { byHostname: (host, port) => [...clusters.values()].find((ports) => ports.get(port)?.hostname === host)?.get(port), clusterDomain: options.clusterDomain },
  }, diagnostics);
  if (selection.ok) {
    gateways.push(waypointGatewayStatus(selection.gateway, selection.servesServices, diagnostics));
    telemetry = new TelemetryCompiler({ resources, mesh: options.mesh ?? DEFAULT_MESH_CONFIG, waypoint: selection.gateway, clusters, clusterDomain: options.clusterDomain }, diagnostics);
    const gatewayEntries: RankedEntry[] = [];
    for (const a of routes.attachments) if (a.target.kind === 'gateway' && a.target.gateway === waypointKey) gatewayEntries.push(...a.entries);
    // Port-level filter stages in Istio's waypoint order (see port-filters.ts); each compiles its policies once.
    const stages: FilterStage[] = [
      // Tracing first: in Envoy it belongs to the connection manager and wraps every HTTP filter.
      telemetry.tracingStage,
      // CUSTOM ext-authz and AUTHN-phase plugins go before JWT authn; AUTHZ plugins and RBAC after it.
      authz.customStage,
      jwtAuthnStage({
        resources, policies: resources.requestAuthentications, waypoint: selection.gateway,
        rootNamespace: (options.mesh ?? DEFAULT_MESH_CONFIG).rootNamespace, resolver: options.jwks,
      }, diagnostics),
      authz.rbacStage,
    ];
    for (const svc of [...resources.services.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      const bound = bindings.get(svc.key);
      // GEP-1294: ExternalName Services "SHOULD NOT be allowed as parentRefs"; the waypoint does not serve them.
      const served = bound !== undefined && bound === waypointKey && selection.servesServices && svc.spec.type !== 'ExternalName';
      serviceStatus.push(bindingStatus(svc.key, bound, enrollmentOf(svc, resources).source, served, waypointKey));
      if (svc.spec.type === 'ExternalName' && bound === waypointKey) {
        diagnostics.push(resourceDiagnostic(svc.raw, 'warning', 'unsupported-service', ['spec', 'type'], 'ExternalName Services are not served by a waypoint'));
      }
      if (!served) continue;
      const config = buildServiceConfig(svc, clusters, routes.attachments, gatewayEntries, options.clusterDomain, stages, diagnostics, l4Routes.attachments, grpcRoutes);
      services.set(svc.key, config);
      addListeners(config, listeners, diagnostics, svc.raw);
    }
  } else {
    diagnostics.push({ severity: 'error', code: 'no-waypoint', resource: undefined, file: undefined, doc: undefined, line: undefined, path: undefined, message: selection.message });
  }
  const status: ConfigStatus = Object.freeze({
    routes: [...httpStatuses, ...grpcRoutes.statuses, ...l4Routes.statuses], gateways, services: serviceStatus,
    ...(authz.statuses.length === 0 ? {} : { authorizationPolicies: authz.statuses }),
  });
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
    ...(telemetry === undefined ? {} : { telemetry: telemetry.build(services, allClusters) }),
    pathNormalization: (options.mesh ?? DEFAULT_MESH_CONFIG).pathNormalization.normalization,
    ...(authz.dump.length === 0 ? {} : { authorization: authz.dump }),
  });
  return { ok: true, snapshot, diagnostics: sorted };
}

function addListeners(config: ServiceConfig, listeners: Map<string, ListenerConfig>, diagnostics: Diagnostic[], raw: RawResource): void {
  const vip = config.vip;
  if (vip === undefined) return;
  // A non-loopback VIP gets no local socket, but stays a destination HBONE CONNECTs may name.
  const local = LOOPBACK.test(vip);
  if (!local) {
    diagnostics.push(resourceDiagnostic(raw, 'info', 'vip-not-local', ['spec', 'clusterIP'],
      `clusterIP ${vip} is not a loopback address, so no local listener is bound; traffic reaches this Service through HBONE`));
  }
  for (const port of config.ports) {
    const key = `${vip}:${port.port}`;
    const taken = listeners.get(key);
    if (taken !== undefined) {
      diagnostics.push(resourceDiagnostic(raw, 'error', 'duplicate-vip', ['spec', 'clusterIP'],
        `${key} is already the VIP of Service ${taken.service.key}; give this Service another clusterIP in 127.0.0.0/8`));
      continue;
    }
    listeners.set(key, Object.freeze({ key, address: vip, port: port.port, service: config, servicePort: port, ...(local ? {} : { tunnelOnly: true as const }) }));
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
