// Conditions on Services (istio.io/WaypointBound) and on AuthorizationPolicies this waypoint enforces
// (WaypointAccepted), merged into the conditions other controllers wrote.
import { mergeConditionList, toApiConditions } from './api-conditions.js';
import { type BasisIndex, generationOf, statusOf, type StatusTarget } from './status-basis.js';

export const WAYPOINT_BOUND = 'istio.io/WaypointBound';

/**
 * Services bound to this waypoint get its WaypointBound condition; Services bound to no waypoint lose
 * the condition (every waypoint agrees on that); Services of other waypoints are theirs to write.
 */
export function serviceTargets(index: BasisIndex): StatusTarget[] {
  const out: StatusTarget[] = [];
  for (const binding of index.basis.snapshot.status.services) {
    const mine = binding.waypoint === index.ctx.waypointKey;
    if (!mine && binding.waypoint !== undefined) continue;
    const [namespace = '', name = ''] = binding.service.split('/');
    const obj = index.object('Service', namespace, name);
    if (obj === undefined) continue;
    const generation = generationOf(obj);
    const conditions = mine ? binding.conditions.filter((c) => c.type === WAYPOINT_BOUND) : [];
    out.push({
      kind: 'Service',
      namespace,
      name,
      desired(current) {
        const status = statusOf(current);
        const merged = mergeConditionList(status['conditions'], toApiConditions(conditions, status['conditions'], index.ctx.now, generation), [WAYPOINT_BOUND]);
        if (merged.length === 0 && status['conditions'] === undefined) return status;
        return { ...status, conditions: merged };
      },
    });
  }
  return out;
}

/**
 * AuthorizationPolicies this waypoint enforces, and those no waypoint can (target not found, rejected):
 * Istio's `WaypointAccepted` condition, as compiled. Policies of other waypoints are theirs to write;
 * ztunnel-enforced ones (no targetRefs) get `ZtunnelAccepted` from istiod, not from a waypoint.
 */
export function policyTargets(index: BasisIndex): StatusTarget[] {
  const out: StatusTarget[] = [];
  for (const policy of index.basis.snapshot.status.authorizationPolicies ?? []) {
    if (policy.enforcedBy !== 'this-waypoint' && policy.enforcedBy !== 'nowhere') continue;
    const obj = index.object('AuthorizationPolicy', policy.namespace, policy.name);
    if (obj === undefined) continue;
    const generation = generationOf(obj);
    const conditions = policy.conditions.filter((c) => c.type === 'WaypointAccepted');
    if (conditions.length === 0) continue;
    out.push({
      kind: 'AuthorizationPolicy',
      namespace: policy.namespace,
      name: policy.name,
      desired(current) {
        const status = statusOf(current);
        return { ...status, conditions: mergeConditionList(status['conditions'], toApiConditions(conditions, status['conditions'], index.ctx.now, generation)) };
      },
    });
  }
  return out;
}
