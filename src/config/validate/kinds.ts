// The kinds this waypoint knows: the apiVersions each accepts, and the kinds recognised but not applied yet.

export type AppliedKind = 'Namespace' | 'Pod' | 'Service' | 'EndpointSlice' | 'Gateway' | 'HTTPRoute' | 'ReferenceGrant' | 'TLSRoute' | 'TCPRoute' | 'GRPCRoute' | 'RequestAuthentication' | 'Telemetry' | 'AuthorizationPolicy' | 'DestinationRule' | 'WasmPlugin' | 'VirtualService';

export const APPLIED_KINDS: Readonly<Record<AppliedKind, ReadonlyArray<string>>> = {
  Namespace: ['v1'],
  Pod: ['v1'],
  Service: ['v1'],
  EndpointSlice: ['discovery.k8s.io/v1'],
  Gateway: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  HTTPRoute: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  GRPCRoute: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1alpha2'],
  ReferenceGrant: ['gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1'],
  TLSRoute: ['gateway.networking.k8s.io/v1alpha2', 'gateway.networking.k8s.io/v1alpha3', 'gateway.networking.k8s.io/v1'],
  TCPRoute: ['gateway.networking.k8s.io/v1alpha2', 'gateway.networking.k8s.io/v1'],
  RequestAuthentication: ['security.istio.io/v1', 'security.istio.io/v1beta1'],
  Telemetry: ['telemetry.istio.io/v1', 'telemetry.istio.io/v1alpha1'],
  AuthorizationPolicy: ['security.istio.io/v1', 'security.istio.io/v1beta1'],
  DestinationRule: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
  WasmPlugin: ['extensions.istio.io/v1alpha1'],
  VirtualService: ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'],
};

/** Kinds from the waypoint's API surface that are accepted but have no effect yet. */
export const NOT_YET_APPLIED_KINDS: ReadonlySet<string> = new Set([
  'GatewayClass',
  'PeerAuthentication',
  'ServiceEntry',
  'WorkloadEntry',
  'Secret',
  'ConfigMap',
]);

export function isAppliedKind(kind: string): kind is AppliedKind {
  return Object.hasOwn(APPLIED_KINDS, kind);
}
