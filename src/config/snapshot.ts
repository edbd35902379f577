// The compiled, immutable configuration the data plane reads. Only config/compile builds these objects;
// the data plane pins one snapshot per request and never mutates it.
import type { FilterChain } from '../filters/types.js';
import type { LbPolicy } from '../upstream/lb/lb-policy.js';
import type { OutlierPolicy } from '../upstream/outlier/outlier-detector.js';
import type { UpstreamSettings } from '../upstream/upstream-settings.js';
import type { CompiledHttpMatch } from '../router/match/http-match.js';
import type { RoutingIndex } from '../router/route-index.js';
import type { L4Routing } from '../l4/l4-routing.js';
import type { TelemetryConfig } from '../observability/telemetry-config.js';
import type { UpstreamPolicy } from '../proxy/upstream-policy.js';
import type { PathNormalization } from '../http/path-normalize.js';
import type { DecisionHeaderPolicy } from '../proxy/decision-header.js';
import type { Diagnostic } from './diagnostics.js';
import type { GRPCRouteMatch } from './model/grpc-route.js';
import type { HTTPRouteMatch } from './model/http-route.js';
import type { HTTPMatchRequest } from './model/virtual-service.js';
import type { ConfigStatus } from './status.js';
import type { WasmSnapshot } from './compile/wasm-plugins.js';

/** Application protocol of a Service port, as Istio selects it (appProtocol, else port-name prefix). */
export type PortProtocol = 'http' | 'http2' | 'grpc' | 'tcp' | 'tls' | 'unknown';

export interface EndpointConfig {
  /** `ip:port`: the stable id of the endpoint's runtime state (pool, outlier state). */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** `Pod ns/name` when the EndpointSlice names one. */
  readonly workload: string | undefined;
  /** Set for ambient-mesh workloads: reached through an HBONE tunnel to this identity (src/hbone/ambient.ts). */
  readonly hbone?: HboneEndpoint;
}

/** The identity an ambient endpoint must present: its namespace, and its service account when its Pod is known. */
export interface HboneEndpoint {
  readonly namespace: string;
  readonly serviceAccount: string | undefined;
}

export interface ClusterConfig {
  /** Istio's name, e.g. `inbound-vip|9080|http|reviews.default.svc.cluster.local`; stable across snapshots. */
  readonly id: string;
  readonly service: string;
  readonly hostname: string;
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly endpoints: ReadonlyArray<EndpointConfig>;
  /** DestinationRule trafficPolicy.loadBalancer, compiled (absent: Istio's default, LEAST_REQUEST). */
  readonly lb?: LbPolicy;
  /** DestinationRule connectionPool.http.http2MaxRequests: requests in flight to the cluster before 503 `UO`. */
  readonly maxRequests?: number;
  /** DestinationRule outlierDetection; ejection state lives in src/upstream/outlier (keyed by endpoint id). */
  readonly outlier?: OutlierPolicy;
  /** DestinationRule connectionPool and tls: how endpoints are connected to (src/upstream/upstream-settings.ts). */
  readonly upstream?: UpstreamSettings;
}

/** One weighted entry of a rule's backendRefs. An invalid entry answers 500 for its share of traffic. */
export type BackendTarget =
  | {
      readonly kind: 'cluster';
      readonly weight: number;
      readonly cluster: ClusterConfig;
      /** HTTPBackendRef filters, run only for requests sent to this backend (absent or empty: none). */
      readonly filters?: FilterChain;
    }
  | {
      readonly kind: 'invalid';
      readonly weight: number;
      readonly reason: string;
      /** VirtualService destinations answer Envoy's default 503 `NC`; absent: 500 (Gateway API). */
      readonly unavailable?: true;
    };

export interface WeightedBackends {
  /** Targets with weight > 0, in rule order. */
  readonly targets: ReadonlyArray<BackendTarget>;
  /** Running sums of the weights, for a binary-search pick. */
  readonly cumulative: ReadonlyArray<number>;
  readonly total: number;
}

export type RouteAction =
  | {
      readonly kind: 'forward';
      readonly backends: WeightedBackends;
      /** The rule's timeouts and retries; absent: no timeout and Istio's default retries. */
      readonly policy?: UpstreamPolicy;
    }
  /** Every backendRef has weight 0 (or there are none): Istio answers 500 directly. */
  | { readonly kind: 'direct'; readonly status: number; readonly details: string };

export interface RouteEntry {
  /** `namespace.name.ruleIndex` (or the rule's own name), as Istio names route entries. */
  readonly name: string;
  /** `namespace/name` of the HTTPRoute. */
  readonly route: string;
  readonly ruleIndex: number;
  readonly matchIndex: number;
  readonly match: CompiledHttpMatch;
  /** The match as configured (defaults filled in), for /config_dump and traces. */
  readonly matchSpec: HTTPRouteMatch;
  /** Lower-cased hostnames for routes attached to the waypoint Gateway; null = any host. */
  readonly hostnames: ReadonlyArray<string> | null;
  /** The rule's HTTPRoute filters, in listed order (EMPTY_CHAIN when none). */
  readonly filters: FilterChain;
  readonly action: RouteAction;
  /**
   * GRPCRoute entries only: the gRPC match as configured (`matchSpec` then holds the equivalent HTTP
   * path/header match it compiles to). Its presence also makes local replies follow GRPCRoute rules.
   */
  readonly grpc?: GRPCRouteMatch;
  /**
   * VirtualService entries only: the http route's match as configured (null: no match, every request). Its
   * presence means `matchSpec` is a placeholder and the table is in VirtualService order (first match wins).
   */
  readonly virtualService?: { readonly match: HTTPMatchRequest | null };
}

export type HttpRouting =
  /** No route attached: the Service load-balances over its own endpoints. */
  | { readonly kind: 'service-default'; readonly cluster: ClusterConfig }
  | {
      readonly kind: 'routes';
      /** Producer routes (and routes attached to the waypoint Gateway), in precedence order. */
      readonly producer: ReadonlyArray<RouteEntry>;
      /** Consumer routes keyed by the client namespace they apply to (GEP-1294). */
      readonly consumers: ReadonlyMap<string, ReadonlyArray<RouteEntry>>;
      /** Compiled indexes of these tables (router/route-index.ts); absent: selection scans the tables. */
      readonly index?: RoutingIndex;
    };

export interface ServicePortConfig {
  readonly name: string;
  readonly port: number;
  readonly protocol: PortProtocol;
  readonly cluster: ClusterConfig;
  /** How HTTP requests on this port are routed; also used after sniffing on `unknown` ports. */
  readonly http: HttpRouting;
  /**
   * Filters that run on every HTTP request to this port before routing, in Istio's waypoint order
   * (ext-authz, authn plugins, JWT, authz plugins, RBAC, stats plugins); EMPTY_CHAIN when none.
   */
  readonly filters: FilterChain;
  /** How TCP connections on this port are routed (TLSRoute/TCPRoute): `tcp`/`tls` ports and non-HTTP traffic on `unknown` ones. */
  readonly l4: L4Routing;
}

export interface ServiceConfig {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly hostname: string;
  readonly vip: string | undefined;
  readonly ports: ReadonlyArray<ServicePortConfig>;
}

/** A local VIP listener: `clusterIP:port` of an enrolled Service with a loopback clusterIP. */
export interface ListenerConfig {
  /** `ip:port`, the id the listener set binds and the data plane looks up. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly service: ServiceConfig;
  readonly servicePort: ServicePortConfig;
  /** A non-loopback VIP: no local socket is bound; reached only through HBONE CONNECT to this `ip:port`. */
  readonly tunnelOnly?: true;
  /** Workload-addressed (`Pod ns/name`): a Pod's own ip:port, served as Istio's direct pod access (src/hbone/workload-listeners.ts). */
  readonly workload?: string;
}

export interface WaypointRef {
  readonly namespace: string;
  readonly name: string;
}

export interface Snapshot {
  /** Increases by one with every swap. */
  readonly version: number;
  readonly waypoint: WaypointRef | undefined;
  readonly listeners: ReadonlyMap<string, ListenerConfig>;
  readonly services: ReadonlyMap<string, ServiceConfig>;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  readonly status: ConfigStatus;
  readonly diagnostics: ReadonlyArray<Diagnostic>;
  /** Metric labels, access logs and tracing settings (absent in hand-built test snapshots: nothing is reported). */
  readonly telemetry?: TelemetryConfig;
  /** MeshConfig `pathNormalization` applied to every request path (src/http/path-normalize.ts); absent = BASE. */
  readonly pathNormalization?: PathNormalization;
  /** AuthorizationPolicies as compiled (src/security/authz), for /config_dump; absent when there are none. */
  readonly authorization?: ReadonlyArray<unknown>;
  /** WasmPlugins per Service port and the modules they need (compile/wasm-plugins.ts); absent when there are none. */
  readonly wasm?: WasmSnapshot;
  /** Who gets the `x-waypoint-decision` response header (waypoint Gateway annotations); absent: nobody. */
  readonly decisionHeader?: DecisionHeaderPolicy;
}
