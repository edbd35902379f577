// Where each AuthorizationPolicy attaches, as Istio decides for waypoints (WaypointPolicyStatusCollection):
// targetRefs to the waypoint Gateway, its `istio-waypoint` GatewayClass (policy in the root namespace),
// a Service bound to a waypoint, or a ServiceEntry; policies without targetRefs belong to ztunnel.
import type { PolicyTargetRef } from '../../config/model/authorization-policy.js';
import type { ServiceSpec } from '../../config/model/core.js';
import { type GatewaySpec, isWaypointGatewayClass, OWN_GATEWAY_CLASS, WAYPOINT_GATEWAY_CLASS } from '../../config/model/gateway.js';
import type { Valid } from '../../config/validate/validate.js';

export type TargetScope = { readonly kind: 'waypoint' } | { readonly kind: 'service'; readonly service: string };

export interface TargetBinding {
  /** `Kind.group:namespace/name`, as Istio names the ancestor. */
  readonly ancestor: string;
  readonly bound: boolean;
  readonly reason: 'Accepted' | 'Invalid' | 'AncestorNotBound' | 'TargetNotFound';
  readonly message: string;
  /** What the target covers at this waypoint; undefined when it does not apply here. */
  readonly here: TargetScope | undefined;
  /** The waypoint (`ns/name`) the target is bound to, when bound. */
  readonly waypoint: string | undefined;
}

export interface AttachmentContext {
  readonly rootNamespace: string;
  readonly services: ReadonlyMap<string, Valid<ServiceSpec>>;
  readonly gateways: ReadonlyMap<string, Valid<GatewaySpec>>;
  /** Service key → the waypoint it uses (`ns/name`), from istio.io/use-waypoint. */
  readonly bindings: ReadonlyMap<string, string | undefined>;
  /** This waypoint, when one is selected; `servesServices` from istio.io/waypoint-for. */
  readonly waypoint: { readonly key: string; readonly servesServices: boolean } | undefined;
}

export function bindTarget(ref: PolicyTargetRef, policyNamespace: string, ctx: AttachmentContext): TargetBinding {
  const ns = ref.namespace === undefined || ref.namespace === '' ? policyNamespace : ref.namespace;
  const key = `${ns}/${ref.name}`;
  const ancestor = `${ref.kind}.${ref.group === '' ? 'core' : ref.group}:${key}`;
  const own = ctx.waypoint;
  const result = (bound: boolean, reason: TargetBinding['reason'], message: string, here: TargetScope | undefined, waypoint?: string): TargetBinding =>
    ({ ancestor, bound, reason, message, here, waypoint });
  switch (ref.kind) {
    case 'GatewayClass':
      if (ns !== ctx.rootNamespace) return result(false, 'Invalid', `AuthorizationPolicy must be in the root namespace \`${ctx.rootNamespace}\` when referencing a GatewayClass`, undefined);
      // Istio creates the `istio-waypoint` class itself; other classes are not for waypoints.
      if (!isWaypointGatewayClass(ref.name)) return result(false, 'TargetNotFound', `GatewayClass ${ref.name} was not found (waypoints use ${WAYPOINT_GATEWAY_CLASS} or ${OWN_GATEWAY_CLASS})`, undefined);
      // Applies here only when the served waypoint is of that class.
      return result(true, 'Accepted', `bound to ${ref.name}`, own !== undefined && ctx.gateways.get(own.key)?.spec.gatewayClassName === ref.name ? { kind: 'waypoint' } : undefined, own?.key);
    case 'Gateway': {
      const gw = ctx.gateways.get(key);
      if (gw === undefined || !isWaypointGatewayClass(gw.spec.gatewayClassName)) return result(false, 'TargetNotFound', `waypoint Gateway ${key} was not found`, undefined);
      return result(true, 'Accepted', `bound to ${key}`, own?.key === key ? { kind: 'waypoint' } : undefined, key);
    }
    case 'Service': {
      if (!ctx.services.has(key)) return result(false, 'TargetNotFound', `Service ${key} was not found`, undefined);
      const w = ctx.bindings.get(key);
      if (w === undefined || !ctx.gateways.has(w)) return result(false, 'AncestorNotBound', `Service ${key} is not bound to a waypoint`, undefined);
      const here = own !== undefined && own.key === w && own.servesServices;
      return result(true, 'Accepted', `bound to ${w}`, here ? { kind: 'service', service: key } : undefined, w);
    }
    case 'ServiceEntry':
      return result(false, 'TargetNotFound', `ServiceEntry ${key} was not found (ServiceEntry is not supported by this waypoint yet)`, undefined);
    default:
      return result(false, 'Invalid', `unsupported targetRef kind ${ref.kind}`, undefined);
  }
}

/** Istio's flattenConditions: one WaypointAccepted condition out of every target's binding. */
export function flattenBindings(bindings: ReadonlyArray<TargetBinding>): { readonly status: boolean; readonly reason: string; readonly message: string } {
  if (bindings.length === 1) {
    const b = bindings[0] as TargetBinding;
    return { status: b.bound, reason: b.reason, message: b.message };
  }
  const unbound = bindings.filter((b) => !b.bound).map((b) => b.ancestor);
  const any = bindings.some((b) => b.bound);
  const reason = any ? (unbound.length > 0 ? 'PartiallyInvalid' : 'Accepted') : 'Invalid';
  return { status: any, reason, message: unbound.length > 0 ? `Invalid targetRefs: ${unbound.join(', ')}` : '' };
}
