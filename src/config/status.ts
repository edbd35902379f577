// Status as Gateway API and Istio report it: conditions per route parentRef, Gateway and Service binding.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number | undefined;
}

export interface RouteParentStatus {
  /** The parentRef as written, defaults filled in. */
  readonly parentRef: Readonly<Record<string, string | number>>;
  readonly controllerName: string;
  readonly conditions: ReadonlyArray<Condition>;
}

export interface RouteStatus {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly parents: ReadonlyArray<RouteParentStatus>;
}

export interface GatewayStatus {
  readonly namespace: string;
  readonly name: string;
  readonly conditions: ReadonlyArray<Condition>;
  readonly listeners: ReadonlyArray<{ readonly name: string; readonly conditions: ReadonlyArray<Condition> }>;
}

export interface ServiceBindingStatus {
  readonly service: string;
  /** `namespace/name` of the waypoint the Service uses, or undefined when it uses none. */
  readonly waypoint: string | undefined;
  /** Where the binding came from. */
  readonly source: 'service' | 'namespace' | 'none';
  readonly servedHere: boolean;
  readonly conditions: ReadonlyArray<Condition>;
}

/** Where an AuthorizationPolicy takes effect, from this waypoint's point of view. */
export type PolicyEnforcement = 'this-waypoint' | 'other-waypoint' | 'ztunnel' | 'nowhere';

export interface AuthorizationPolicyStatus {
  readonly namespace: string;
  readonly name: string;
  readonly action: string;
  readonly enforcedBy: PolicyEnforcement;
  /** Why, in one sentence (which target binds it here, or what keeps it from applying). */
  readonly reason: string;
  /** Istio's conditions: `WaypointAccepted` for targetRefs policies, `ZtunnelAccepted` for the others. */
  readonly conditions: ReadonlyArray<Condition>;
  /** For policies ztunnel enforces: each rule as ztunnel sees it (HTTP attributes removed) and a summary. */
  readonly ztunnel?: { readonly summary: string; readonly rules: ReadonlyArray<unknown> };
}

export interface ConfigStatus {
  readonly routes: ReadonlyArray<RouteStatus>;
  readonly gateways: ReadonlyArray<GatewayStatus>;
  readonly services: ReadonlyArray<ServiceBindingStatus>;
  /** AuthorizationPolicy status (absent when there is none); see src/security/authz/policy-status.ts. */
  readonly authorizationPolicies?: ReadonlyArray<AuthorizationPolicyStatus>;
}

/** Istio's controller name in route status. */
export const CONTROLLER_NAME = 'istio.io/gateway-controller';

export function condition(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  observedGeneration: number | undefined,
): Condition {
  return { type, status, reason, message, observedGeneration };
}
