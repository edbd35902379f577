// Picks the waypoint Gateway this process serves and computes its Gateway status.
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import { type GatewaySpec, isWaypointGatewayClass, OWN_GATEWAY_CLASS, WAYPOINT_GATEWAY_CLASS } from '../model/gateway.js';
import { condition, type GatewayStatus } from '../status.js';
import type { Valid } from '../validate/validate.js';

export const WAYPOINT_FOR = 'istio.io/waypoint-for';

export type WaypointSelection =
  | { readonly ok: true; readonly gateway: Valid<GatewaySpec>; readonly servesServices: boolean }
  | { readonly ok: false; readonly message: string };

/** `--waypoint ns/name` when given, else the only Gateway of class istio-waypoint (or our own class, `waypoint`). */
export function selectWaypoint(gateways: ReadonlyMap<string, Valid<GatewaySpec>>, wanted: string | undefined): WaypointSelection {
  const waypoints = [...gateways.values()].filter((g) => isWaypointGatewayClass(g.spec.gatewayClassName));
  let gateway: Valid<GatewaySpec> | undefined;
  if (wanted !== undefined) {
    gateway = gateways.get(wanted);
    if (gateway === undefined) return { ok: false, message: `waypoint Gateway ${wanted} (from --waypoint) not found in the config` };
    if (!isWaypointGatewayClass(gateway.spec.gatewayClassName)) {
      return { ok: false, message: `Gateway ${wanted} has gatewayClassName "${gateway.spec.gatewayClassName}"; a waypoint needs "${WAYPOINT_GATEWAY_CLASS}" or "${OWN_GATEWAY_CLASS}"` };
    }
  } else if (waypoints.length === 1) {
    gateway = waypoints[0];
  } else if (waypoints.length === 0) {
    return { ok: false, message: `no Gateway of class ${WAYPOINT_GATEWAY_CLASS} in the config: add one (see examples/) or pass --waypoint NAMESPACE/NAME` };
  } else {
    return { ok: false, message: `${waypoints.length} Gateways of class ${WAYPOINT_GATEWAY_CLASS} (${waypoints.map((w) => w.key).join(', ')}): choose one with --waypoint NAMESPACE/NAME` };
  }
  if (gateway === undefined) return { ok: false, message: 'no waypoint Gateway' };
  const waypointFor = (gateway.raw.metadata.labels[WAYPOINT_FOR] ?? 'service').toLowerCase();
  return { ok: true, gateway, servesServices: waypointFor === 'service' || waypointFor === 'all' };
}

/** Istio expects exactly one listener on port 15008 with protocol HBONE. */
export function waypointGatewayStatus(gw: Valid<GatewaySpec>, servesServices: boolean, diagnostics: Diagnostic[]): GatewayStatus {
  const gen = gw.raw.metadata.generation;
  const single = gw.spec.listeners.length === 1;
  const listeners = gw.spec.listeners.map((l, i) => {
    const ok = single && l.port === 15008 && l.protocol === 'HBONE';
    if (!ok) {
      diagnostics.push(resourceDiagnostic(gw.raw, 'warning', 'unsupported-listener', ['spec', 'listeners', i],
        'Expected a single listener on port 15008 with protocol "HBONE"'));
    }
    return {
      name: l.name,
      conditions: [
        ok
          ? condition('Accepted', 'True', 'Accepted', 'No errors found', gen)
          : condition('Accepted', 'False', 'UnsupportedProtocol', 'Expected a single listener on port 15008 with protocol "HBONE"', gen),
      ],
    };
  });
  if (!servesServices) {
    diagnostics.push(resourceDiagnostic(gw.raw, 'warning', 'waypoint-for', ['metadata', 'labels', WAYPOINT_FOR],
      `${WAYPOINT_FOR}=${gw.raw.metadata.labels[WAYPOINT_FOR] ?? ''} does not allow Service traffic: set it to "service" or "all" for Services to use this waypoint`));
  }
  return {
    namespace: gw.raw.metadata.namespace,
    name: gw.raw.metadata.name,
    conditions: [
      condition('Accepted', 'True', 'Accepted', 'Resource accepted', gen),
      condition('Programmed', 'True', 'Programmed', 'Resource programmed', gen),
    ],
    listeners,
  };
}
