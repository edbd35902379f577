// Status of the waypoint Gateway (conditions, listeners with supportedKinds and attachedRoutes, the
// waypoint Service's address) and of GatewayClasses that name this controller.
import { isIP } from 'node:net';
import { condition, type Condition, type GatewayStatus } from '../../config/status.js';
import { isWaypointGatewayClass } from '../../config/model/gateway.js';
import { isAppliedKind } from '../../config/validate/kinds.js';
import { isObject, type JsonObject } from '../kube-rest.js';
import { mergeConditionList, toApiConditions } from './api-conditions.js';
import { type BasisIndex, computedFor, GATEWAY_GROUP, generationOf, normalizeParentRef, rejectedMessage, statusOf, type StatusTarget } from './status-basis.js';

/** The controllerName of this project's own GatewayClass (deploy/gatewayclass.yaml). */
export const WAYPOINT_CONTROLLER_NAME = 'waypoint.dev/gateway-controller';

/** Route kinds a waypoint listener accepts (istio-facts 1.1: HTTPRoute, GRPCRoute), those this build applies. */
const LISTENER_ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute'];

export function gatewayTargets(index: BasisIndex): StatusTarget[] {
  const out: StatusTarget[] = [];
  const { waypointKey } = index.ctx;
  const compiled = index.basis.snapshot.status.gateways.find((g) => `${g.namespace}/${g.name}` === waypointKey);
  const obj = index.objects('Gateway').get(waypointKey);
  if (compiled !== undefined && obj !== undefined) out.push(gatewayTarget(compiled, obj, index));
  out.push(...gatewayClassTargets(index));
  return out;
}

function gatewayTarget(gs: GatewayStatus, obj: JsonObject, index: BasisIndex): StatusTarget {
  const generation = generationOf(obj);
  let conditions: ReadonlyArray<Condition> = gs.conditions;
  if (!computedFor(gs.conditions, generation)) {
    const errors = index.errorsOf('Gateway', gs.namespace, gs.name);
    const message = rejectedMessage(errors.length > 0 ? errors : ['see the waypoint log'], true);
    conditions = [condition('Accepted', 'False', 'Invalid', message, generation), condition('Programmed', 'False', 'Invalid', message, generation)];
  }
  const supportedKinds = LISTENER_ROUTE_KINDS.filter(isAppliedKind).map((kind) => ({ group: GATEWAY_GROUP, kind }));
  const addresses = waypointAddresses(index, gs.namespace, gs.name);
  return {
    kind: 'Gateway',
    namespace: gs.namespace,
    name: gs.name,
    desired(current) {
      const status = statusOf(current);
      const now = index.ctx.now;
      const previousListeners = new Map<string, JsonObject>();
      if (Array.isArray(status['listeners'])) for (const l of status['listeners']) if (isObject(l) && typeof l['name'] === 'string') previousListeners.set(l['name'], l);
      const listeners = gs.listeners.map((l) => {
        const prev = previousListeners.get(l.name);
        const accepted = l.conditions.find((c) => c.type === 'Accepted');
        const ok = accepted?.status === 'True';
        const all = [
          ...l.conditions,
          ...(l.conditions.some((c) => c.type === 'Programmed') ? [] : [condition('Programmed', ok ? 'True' : 'False', ok ? 'Programmed' : 'Invalid', ok ? 'Listener programmed' : accepted?.message ?? 'Listener not accepted', generation)]),
          ...(l.conditions.some((c) => c.type === 'ResolvedRefs') ? [] : [condition('ResolvedRefs', 'True', 'ResolvedRefs', 'No references to resolve', generation)]),
        ];
        return {
          name: l.name,
          supportedKinds,
          attachedRoutes: attachedRoutes(index, gs, l.name),
          conditions: mergeConditionList(prev?.['conditions'], toApiConditions(all, prev?.['conditions'], now, generation)),
        };
      });
      const out: JsonObject = {
        ...status,
        conditions: mergeConditionList(status['conditions'], toApiConditions(conditions, status['conditions'], now, generation)),
        listeners,
      };
      if (addresses.length > 0) out['addresses'] = addresses;
      return out;
    },
  };
}

/** Routes accepted on this Gateway listener (parentRef naming the Gateway, and the listener or none). */
function attachedRoutes(index: BasisIndex, gs: GatewayStatus, listener: string): number {
  let n = 0;
  for (const rs of index.basis.snapshot.status.routes) {
    const attached = rs.parents.some((p) => {
      const ref = normalizeParentRef(p.parentRef, rs.namespace);
      if (ref === undefined || ref.kind !== 'Gateway' || ref.group !== GATEWAY_GROUP || ref.namespace !== gs.namespace || ref.name !== gs.name) return false;
      if (ref.record['sectionName'] !== undefined && ref.record['sectionName'] !== listener) return false;
      return p.conditions.some((c) => c.type === 'Accepted' && c.status === 'True');
    });
    if (attached) n++;
  }
  return n;
}

/** The Service named after the Gateway fronts the waypoint Pods (as Istio deploys it): its IP and hostname. */
function waypointAddresses(index: BasisIndex, namespace: string, name: string): JsonObject[] {
  const svc = index.object('Service', namespace, name);
  if (svc === undefined) return [];
  const spec = isObject(svc['spec']) ? svc['spec'] : {};
  const ip = spec['clusterIP'];
  const out: JsonObject[] = [];
  if (typeof ip === 'string' && isIP(ip) !== 0) out.push({ type: 'IPAddress', value: ip });
  out.push({ type: 'Hostname', value: `${name}.${namespace}.svc.${index.ctx.clusterDomain}` });
  return out;
}

/** GatewayClasses naming our controller: Accepted when their name is one this waypoint serves. */
function gatewayClassTargets(index: BasisIndex): StatusTarget[] {
  if (index.ctx.controllerName !== WAYPOINT_CONTROLLER_NAME) return [];
  const out: StatusTarget[] = [];
  for (const [name, obj] of index.objects('GatewayClass')) {
    const spec = isObject(obj['spec']) ? obj['spec'] : {};
    if (spec['controllerName'] !== WAYPOINT_CONTROLLER_NAME) continue;
    const generation = generationOf(obj);
    const accepted = isWaypointGatewayClass(name)
      ? condition('Accepted', 'True', 'Accepted', 'Handled by the waypoint controller', generation)
      : condition('Accepted', 'False', 'Unsupported', `this controller serves Gateways of the classes "waypoint" and "istio-waypoint"; rename the GatewayClass "${name}"`, generation);
    out.push({
      kind: 'GatewayClass',
      namespace: '',
      name,
      desired(current) {
        const status = statusOf(current);
        return { ...status, conditions: mergeConditionList(status['conditions'], toApiConditions([accepted], status['conditions'], index.ctx.now, generation)) };
      },
    });
  }
  return out;
}
