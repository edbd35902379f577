// compile(): raw resources → validated resources → immutable Snapshot, diagnostics and status.
// Pure and synchronous: no I/O, no clocks, deterministic for the same input.
import { type Diagnostic, resourceDiagnostic, sortDiagnostics } from '../diagnostics.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../model/mesh-config.js';
import type { JwksResolver } from '../../security/jwt/jwks-resolver.js';
import { jwtAuthnStage } from '../../security/jwt/jwt-filter-stage.js';
import { compileAuthorization } from '../../security/authz/compile-authorization.js';
import { addWorkloadListeners } from '../../hbone/workload-listeners.js';
import type { RawResource } from '../resource.js';
import type { ClusterConfig, ListenerConfig, ServiceConfig, Snapshot, WaypointRef } from '../snapshot.js';
import type { ConfigStatus, GatewayStatus, ServiceBindingStatus } from '../status.js';
import { condition } from '../status.js';
import { validateResources, type ValidResources } from '../validate/validate.js';
import { destinationRulePolicies } from './destination-rules.js';
import type { TlsFiles } from '../../upstream/tls/tls-files.js';
import { enrollmentOf } from './enrollment.js';
import { compileHttpRoutes, type HttpRouteContext, type RankedEntry } from './http-routes.js';
import { compileGrpcRoutes, conflictedHttpRouteStatuses } from './grpc-routes.js';
import { compileL4Routes, type HttpClaim } from './l4-routes.js';
import type { FilterStage } from './port-filters.js';
import { buildClusters, buildServiceConfig } from './services.js';
import { VirtualServiceRoutes } from './virtual-services.js';
import { TelemetryCompiler } from './telemetry.js';
import { compileWasmPlugins, type WasmCompileOptions, type WasmSnapshot } from './wasm-plugins.js';
import { selectWaypoint, waypointGatewayStatus } from './waypoint.js';
import { compileDecisionHeader } from '../../proxy/decision-header-config.js';

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
  /** Contents of the TLS files DestinationRules name, read before compiling (upstream/tls/tls-files.ts). */
  readonly tlsFiles?: TlsFiles;
  /** Wasm module states (fetched outside compile) and the proxy-wasm host; absent (validate, goldens): modules pending. */
  readonly wasm?: WasmCompileOptions;
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
  // DestinationRules whose TLS files are unusable are rejected during compile (appended by destinationRulePolicies).
  const rejected: RawResource[] = [...validated.rejected];
  return { ...compileValid(validated.resources, options, diagnostics, rejected), rejected };
}

type Compiled =
  | { readonly ok: true; readonly snapshot: Snapshot; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly ok: false; readonly diagnostics: ReadonlyArray<Diagnostic>; readonly status: ConfigStatus };

function compileValid(resources: ValidResources, options: CompileOptions, diagnostics: Diagnostic[], rejected: RawResource[]): Compiled {
  const selection = selectWaypoint(resources.gateways, options.waypoint);
  const waypointKey = selection.ok ? selection.gateway.key : undefined;
  const clusters = buildClusters(resources, options.clusterDomain, destinationRulePolicies(resources, options.clusterDomain, diagnostics, { tlsFiles: options.tlsFiles, rejected }));
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
  let wasm: WasmSnapshot | undefined;
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
    const wasmStages = compileWasmPlugins(resources.wasmPlugins, { resources, waypoint: selection.gateway, rootNamespace: (options.mesh ?? DEFAULT_MESH_CONFIG).rootNamespace }, options.wasm, diagnostics);
    // Port-level filter stages in Istio's waypoint order (see port-filters.ts); each compiles its policies once.
    const stages: FilterStage[] = [
      // Tracing first: in Envoy it belongs to the connection manager and wraps every HTTP filter.
      telemetry.tracingStage,
      // CUSTOM ext-authz and AUTHN-phase plugins go before JWT authn; AUTHZ plugins and RBAC after it.
      authz.customStage,
      wasmStages.authn,
      jwtAuthnStage({
        resources, policies: resources.requestAuthentications, waypoint: selection.gateway,
        rootNamespace: (options.mesh ?? DEFAULT_MESH_CONFIG).rootNamespace, resolver: options.jwks,
      }, diagnostics),
      wasmStages.authz,
      authz.rbacStage,
      // WasmPlugin STATS then UNSPECIFIED_PHASE plugins (Istio: after RBAC, before the stats filter and the router).
      wasmStages.stats,
      wasmStages.unspecified,
    ];
    // VirtualService routing for served Services without Gateway API routes (virtual-services.ts).
    const virtualServices = new VirtualServiceRoutes({
      virtualServices: resources.virtualServices, services: resources.services, cluster: (key, port) => clusters.get(key)?.get(port),
      clusterDomain: options.clusterDomain, waypointNamespace: selection.gateway.raw.metadata.namespace,
    }, diagnostics);
    for (const svc of [...resources.services.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      const bound = bindings.get(svc.key);
      // GEP-1294: ExternalName Services "SHOULD NOT be allowed as parentRefs"; the waypoint does not serve them.
      const served = bound !== undefined && bound === waypointKey && selection.servesServices && svc.spec.type !== 'ExternalName';
      serviceStatus.push(bindingStatus(svc.key, bound, enrollmentOf(svc, resources).source, served, waypointKey));
      if (svc.spec.type === 'ExternalName' && bound === waypointKey) {
        diagnostics.push(resourceDiagnostic(svc.raw, 'warning', 'unsupported-service', ['spec', 'type'], 'ExternalName Services are not served by a waypoint'));
      }
      if (!served) continue;
      const config = virtualServices.apply(buildServiceConfig(svc, clusters, routes.attachments, gatewayEntries, options.clusterDomain, stages, diagnostics, l4Routes.attachments, grpcRoutes));
      services.set(svc.key, config);
      addListeners(config, listeners, diagnostics, svc.raw);
    }
    // Workload-addressed HBONE traffic (Pods using this waypoint, waypoint-for workload/all): src/hbone/workload-listeners.ts.
    addWorkloadListeners({ resources, waypointKey: selection.gateway.key, waypointLabels: selection.gateway.raw.metadata.labels, clusters: clusters.values(), services, stages }, listeners, diagnostics);
    virtualServices.finish();
    wasm = wasmStages.snapshot();
  } else {
    diagnostics.push({ severity: 'error', code: 'no-waypoint', resource: undefined, file: undefined, doc: undefined, line: undefined, path: undefined, message: selection.message });
  }
  const status: ConfigStatus = Object.freeze({
    routes: [...httpStatuses, ...grpcRoutes.statuses, ...l4Routes.statuses], gateways, services: serviceStatus,
    ...(authz.statuses.length === 0 ? {} : { authorizationPolicies: authz.statuses }),
  });
  // Opt-in x-waypoint-decision header (src/proxy/decision-header-config.ts).
  const decisionHeader = selection.ok ? compileDecisionHeader(selection.gateway.raw, diagnostics) : undefined;
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
    ...(wasm === undefined ? {} : { wasm }),
    ...(decisionHeader === undefined ? {} : { decisionHeader }),
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
