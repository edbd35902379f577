// The analyzer's message types, istioctl-analyze style: a code, a name, a level and a suggested fix, keyed by the
// compile diagnostic code they come from. IST codes are Istio's where the meaning is the same (pkg/config/analysis/msg);
// WPA codes are this waypoint's own.

export type Level = 'Error' | 'Warning' | 'Info';

export interface MessageType {
  readonly code: string;
  readonly name: string;
  /** Overrides the diagnostic's severity when set. */
  readonly level?: Level;
  readonly fix: string;
}

export const SCHEMA_VALIDATION: MessageType = { code: 'IST0106', name: 'SchemaValidationError', fix: 'correct the field as the message says; the resource is rejected whole until then' };
export const REFERENCED_RESOURCE_NOT_FOUND: MessageType = { code: 'IST0101', name: 'ReferencedResourceNotFound', fix: 'create the referenced object or correct the reference (name, namespace, port)' };
export const ROUTE_PARENT_NOT_BOUND: MessageType = { code: 'WPA0010', name: 'RouteParentNotBoundToWaypoint', level: 'Warning', fix: 'label the Service or its namespace with istio.io/use-waypoint=<waypoint>, or the route has no effect' };
export const WAYPOINT_NOT_FOUND: MessageType = { code: 'WPA0011', name: 'WaypointNotFound', level: 'Error', fix: 'create the waypoint Gateway (gatewayClassName istio-waypoint) or correct the istio.io/use-waypoint label; until then traffic to the Service is not served by a waypoint' };
const GENERIC: MessageType = { code: 'WPA0000', name: 'ConfigDiagnostic', fix: 'see the message' };

const BY_DIAGNOSTIC: Readonly<Record<string, MessageType>> = {
  'unknown-field': SCHEMA_VALIDATION,
  'invalid-field': SCHEMA_VALIDATION,
  'invalid-match': SCHEMA_VALIDATION,
  'invalid-policy': SCHEMA_VALIDATION,
  'unsupported-api-version': { code: 'IST0106', name: 'SchemaValidationError', fix: 'use one of the apiVersions the message lists' },
  'backend-not-found': REFERENCED_RESOURCE_NOT_FOUND,
  'parent-not-found': REFERENCED_RESOURCE_NOT_FOUND,
  'target-not-found': REFERENCED_RESOURCE_NOT_FOUND,
  'policy-target-not-found': REFERENCED_RESOURCE_NOT_FOUND,
  'destination-rule-host-not-found': { code: 'IST0101', name: 'ReferencedResourceNotFound', fix: 'set spec.host to an existing Service (short name in the rule namespace, or the FQDN)' },
  'envoy-filter-unsupported': { code: 'WPA0001', name: 'EnvoyFilterUnsupported', fix: 'rewrite the customisation as a WasmPlugin with targetRefs to the Service, or use Gateway API filters' },
  'subsets-unsupported': { code: 'WPA0002', name: 'DestinationRuleSubsetsUnsupported', fix: 'create one Service per version (selector on the version label) and split with HTTPRoute backendRef weights' },
  'not-yet-applied': { code: 'WPA0003', name: 'NotYetApplied', fix: 'remove the setting or expect no effect from it on this waypoint' },
  'unsupported-field': { code: 'WPA0004', name: 'UnsupportedOnWaypoint', fix: 'remove the setting; the message says what is used instead' },
  'not-applied-to-waypoint': { code: 'WPA0005', name: 'PolicyNotAppliedToWaypoint', fix: 'attach the policy with targetRefs to the Service or the waypoint Gateway (selector policies go to ztunnel)' },
  'not-enforced-by-waypoint': { code: 'WPA0005', name: 'PolicyNotAppliedToWaypoint', fix: 'attach the policy with targetRefs to the Service or the waypoint Gateway (selector policies go to ztunnel)' },
  'policy-target-not-bound': { code: 'WPA0006', name: 'PolicyTargetNotBoundToWaypoint', fix: 'bind the target Service to a waypoint (istio.io/use-waypoint) or target the waypoint Gateway' },
  'destination-rule-conflict': { code: 'WPA0007', name: 'ConflictingDestinationRules', fix: 'merge the DestinationRules for the host into one' },
  'duplicate-object': { code: 'WPA0008', name: 'DuplicateObject', fix: 'rename or delete one of the copies' },
  'unknown-kind': { code: 'WPA0009', name: 'UnknownKind', fix: 'remove the object or check apiVersion/kind' },
  // VirtualService (compile/virtual-services.ts). IST0109 is Istio's own code and level for the same condition.
  'virtual-service-conflict': { code: 'IST0109', name: 'ConflictingMeshGatewayVirtualServiceHosts', level: 'Error', fix: 'merge the conflicting VirtualServices into a single resource' },
  'virtual-service-shadowed': { code: 'WPA0020', name: 'VirtualServiceShadowedByGatewayRoute', fix: 'move the VirtualService routing into the HTTPRoute, or remove the Gateway API route so the VirtualService applies' },
  'virtual-service-not-applied': { code: 'WPA0021', name: 'VirtualServiceNotApplied', fix: 'bind it to mesh, export it to the waypoint namespace, put it in the Service\'s or the waypoint\'s namespace, or name a Service served by this waypoint in hosts' },
  'fault-percentage-unset': { code: 'WPA0022', name: 'FaultPercentageUnset', fix: 'set percentage.value (0-100) on the delay or abort; without it no request is affected' },
};

export function messageTypeFor(diagnosticCode: string): MessageType {
  return BY_DIAGNOSTIC[diagnosticCode] ?? { ...GENERIC, name: GENERIC.name, code: GENERIC.code };
}
