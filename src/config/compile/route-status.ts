// Status pieces every route kind reports the same way: Istio's ResolvedWaypoints condition and the
// parentRef as written, for `status.parents[].parentRef`.
import { condition, type Condition } from '../status.js';

/** Istio's ambient condition: is the parent Service bound to a waypoint (`istio.io/use-waypoint`)? */
export function waypointCondition(service: string, bindings: ReadonlyMap<string, string | undefined>, generation: number | undefined): Condition {
  const waypoint = bindings.get(service);
  if (waypoint === undefined) {
    return condition('ResolvedWaypoints', 'False', 'MissingUseWaypointLabel',
      'istio.io/use-waypoint label missing from parent and parent namespace; in ambient mode, route will not be respected', generation);
  }
  return condition('ResolvedWaypoints', 'True', 'ResolvedWaypoints', `All waypoints resolved (parent bound to ${waypoint})`, generation);
}

export function parentRefRecord(ref: Readonly<Record<string, unknown>>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(ref)) if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  return out;
}
