// Gateway (gateway.networking.k8s.io v1): only the fields a waypoint Gateway uses are interpreted.
import { z } from 'zod';
import { portNumber, sectionName } from './gateway-api.js';

export const gatewayListener = z.strictObject({
  name: sectionName,
  hostname: z.string().optional(),
  port: portNumber,
  protocol: z.string().min(1),
  tls: z.record(z.string(), z.unknown()).optional(),
  allowedRoutes: z.record(z.string(), z.unknown()).optional(),
});
export type GatewayListener = z.infer<typeof gatewayListener>;

export const gatewaySpec = z.strictObject({
  gatewayClassName: z.string().min(1),
  listeners: z.array(gatewayListener).min(1, 'a Gateway needs at least one listener').max(64),
  addresses: z.array(z.record(z.string(), z.unknown())).optional(),
  infrastructure: z.record(z.string(), z.unknown()).optional(),
  backendTLS: z.record(z.string(), z.unknown()).optional(),
});
export type GatewaySpec = z.infer<typeof gatewaySpec>;

/** The GatewayClass Istio uses for waypoints. */
export const WAYPOINT_GATEWAY_CLASS = 'istio-waypoint';

/** This project's own GatewayClass (deploy/gatewayclass.yaml, controllerName `waypoint.dev/gateway-controller`). */
export const OWN_GATEWAY_CLASS = 'waypoint';

/** Gateways of either class are waypoints this process can serve. */
export function isWaypointGatewayClass(name: string): boolean {
  return name === WAYPOINT_GATEWAY_CLASS || name === OWN_GATEWAY_CLASS;
}
