// Resolves an HTTPRoute parentRef to what it attaches to: a Service (port) or the waypoint Gateway.
import type { ServiceSpec } from '../model/core.js';
import type { ParentRef } from '../model/gateway-api.js';
import { type GatewaySpec, isWaypointGatewayClass, OWN_GATEWAY_CLASS, WAYPOINT_GATEWAY_CLASS } from '../model/gateway.js';
import type { Valid } from '../validate/validate.js';

export type ParentTarget =
  | {
      readonly kind: 'service';
      readonly service: string;
      /** Service port number, or undefined for every port. */
      readonly port: number | undefined;
      /** Producer route: same namespace as the Service; consumer route otherwise (GEP-1294). */
      readonly consumerNamespace: string | undefined;
    }
  | { readonly kind: 'gateway'; readonly gateway: string; readonly hostnames: ReadonlyArray<string> | null };

export type ParentResolution =
  | { readonly ok: true; readonly target: ParentTarget }
  | { readonly ok: false; readonly reason: 'NoMatchingParent' | 'NotAllowedByListeners'; readonly message: string };

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export function resolveParent(
  ref: ParentRef,
  routeNamespace: string,
  hostnames: ReadonlyArray<string>,
  services: ReadonlyMap<string, Valid<ServiceSpec>>,
  gateways: ReadonlyMap<string, Valid<GatewaySpec>>,
): ParentResolution {
  const namespace = ref.namespace ?? routeNamespace;
  if (ref.kind === 'Service' && (ref.group === '' || ref.group === 'core')) {
    const svc = services.get(`${namespace}/${ref.name}`);
    if (svc === undefined) return { ok: false, reason: 'NoMatchingParent', message: `parent service: "${ref.name}" not found` };
    let port: number | undefined;
    if (ref.port !== undefined || ref.sectionName !== undefined) {
      // "sectionName is the Service port name; when both are set both must match."
      const found = svc.spec.ports.find(
        (p) => (ref.port === undefined || p.port === ref.port) && (ref.sectionName === undefined || p.name === ref.sectionName),
      );
      if (found === undefined) {
        const wanted = [ref.port !== undefined ? `port ${ref.port}` : '', ref.sectionName !== undefined ? `port name "${ref.sectionName}"` : ''].filter((s) => s !== '').join(' and ');
        return { ok: false, reason: 'NoMatchingParent', message: `parent service "${ref.name}" has no ${wanted}` };
      }
      port = found.port;
    }
    return { ok: true, target: { kind: 'service', service: svc.key, port, consumerNamespace: namespace === routeNamespace ? undefined : routeNamespace } };
  }
  if (ref.kind === 'Gateway' && ref.group === GATEWAY_GROUP) {
    const gw = gateways.get(`${namespace}/${ref.name}`);
    if (gw === undefined) return { ok: false, reason: 'NoMatchingParent', message: `parent gateway "${namespace}/${ref.name}" not found` };
    if (!isWaypointGatewayClass(gw.spec.gatewayClassName)) {
      return { ok: false, reason: 'NoMatchingParent', message: `gateway "${namespace}/${ref.name}" is of class "${gw.spec.gatewayClassName}", not "${WAYPOINT_GATEWAY_CLASS}" or "${OWN_GATEWAY_CLASS}"; it is not served by a waypoint` };
    }
    const listener = gw.spec.listeners.find(
      (l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port),
    );
    if (listener === undefined) {
      return { ok: false, reason: 'NoMatchingParent', message: `gateway "${namespace}/${ref.name}" has no listener matching sectionName/port of this parentRef` };
    }
    const hosts = hostnames.length === 0 ? null : hostnames.map((h) => h.toLowerCase());
    return { ok: true, target: { kind: 'gateway', gateway: gw.key, hostnames: hosts } };
  }
  return {
    ok: false,
    reason: 'NoMatchingParent',
    message: `unsupported parentRef kind ${ref.group === '' ? 'core' : ref.group}/${ref.kind}: attach to a Service (group "") or the waypoint Gateway`,
  };
}
