// The kinds this waypoint knows: the apiVersions each accepts, and the kinds recognised but not applied yet.

export type AppliedKind = 'Namespace' | 'Service' | 'EndpointSlice' | 'Gateway' | 'HTTPRoute' | 'ReferenceGrant';

export const APPLIED_KINDS: Readonly<Record<AppliedKind, ReadonlyArray<string>>> = {
  Namespace: ['v1'],
  Service: ['v1'],
  EndpointSlice: ['discovery.k8s.io/v1'],
  Gateway: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  HTTPRoute: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  ReferenceGrant: ['gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1'],
};

/** Kinds from the waypoint's API surface that are accepted but have no effect yet. */
export const NOT_YET_APPLIED_KINDS: ReadonlySet<string> = new Set([
  'GatewayClass',
  'GRPCRoute',
  'TLSRoute',
  'TCPRoute',
  'AuthorizationPolicy',
  'RequestAuthentication',
  'PeerAuthentication',
  'WasmPlugin',
  'Telemetry',
  'DestinationRule',
  'VirtualService',
  'EnvoyFilter',
  'ServiceEntry',
  'WorkloadEntry',
  'Pod',
  'Secret',
  'ConfigMap',
]);

export function isAppliedKind(kind: string): kind is AppliedKind {
  return Object.hasOwn(APPLIED_KINDS, kind);
}
