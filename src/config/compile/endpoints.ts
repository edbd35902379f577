// Endpoints of a Service port from its EndpointSlices: ready endpoints only, target port resolved by name or number.
import type { EndpointSliceBody, ServicePort } from '../model/core.js';
import type { EndpointConfig } from '../snapshot.js';
import type { Valid } from '../validate/validate.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Groups slices by the `namespace/name` of the Service their `kubernetes.io/service-name` label names. */
export function slicesByService(
  slices: ReadonlyArray<Valid<EndpointSliceBody>>,
): ReadonlyMap<string, ReadonlyArray<Valid<EndpointSliceBody>>> {
  const out = new Map<string, Valid<EndpointSliceBody>[]>();
  for (const slice of slices) {
    const svc = slice.raw.metadata.labels[SERVICE_NAME_LABEL];
    if (svc === undefined) continue;
    const key = `${slice.raw.metadata.namespace}/${svc}`;
    const list = out.get(key);
    if (list === undefined) out.set(key, [slice]);
    else list.push(slice);
  }
  return out;
}

/**
 * Endpoints for one Service port. EndpointSlice ports carry the Service port's *name* and the resolved
 * target port number, so the slice port is found by name (Kubernetes semantics). A hand-written slice
 * with no ports falls back to a numeric `targetPort`, then to the Service port itself.
 */
export function endpointsFor(
  port: ServicePort,
  slices: ReadonlyArray<Valid<EndpointSliceBody>>,
): EndpointConfig[] {
  const out: EndpointConfig[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    if (slice.spec.addressType === 'FQDN') continue;
    const target = resolveTargetPort(port, slice.spec);
    if (target === undefined) continue;
    for (const ep of slice.spec.endpoints) {
      // "ready ... A nil value should be interpreted as "true"" (EndpointConditions); terminating ones are not ready.
      if (ep.conditions.ready === false || ep.conditions.terminating === true) continue;
      const address = ep.addresses[0];
      if (address === undefined) continue;
      const key = address.includes(':') ? `[${address}]:${target}` : `${address}:${target}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const ref = ep.targetRef;
      const workload = ref?.name !== undefined ? `${ref.kind ?? 'Pod'} ${ref.namespace ?? slice.raw.metadata.namespace}/${ref.name}` : undefined;
      out.push({ key, address, port: target, workload });
    }
  }
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

function resolveTargetPort(port: ServicePort, slice: EndpointSliceBody): number | undefined {
  if (slice.ports.length > 0) {
    const name = port.name ?? '';
    for (const p of slice.ports) {
      if ((p.name ?? '') === name && p.port !== undefined) return p.port;
    }
    if (typeof port.targetPort === 'string') {
      for (const p of slice.ports) if (p.name === port.targetPort && p.port !== undefined) return p.port;
    }
    return undefined;
  }
  if (typeof port.targetPort === 'number') return port.targetPort;
  if (port.targetPort === undefined) return port.port;
  return undefined;
}
