// Which waypoint a Service uses: `istio.io/use-waypoint` on the Service, else on its Namespace.
// "Resource-level label overrides namespace label"; the value `none` opts out.
import type { RawResource } from '../resource.js';
import type { ValidResources } from '../validate/validate.js';

export const USE_WAYPOINT = 'istio.io/use-waypoint';
export const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';

export interface Enrollment {
  /** `namespace/name` of the waypoint, undefined when the Service uses none. */
  readonly waypoint: string | undefined;
  readonly source: 'service' | 'namespace' | 'none';
}

/** For a Service; a Pod carries the same labels for its workload traffic (src/hbone/workload-listeners.ts). */
export function enrollmentOf(svc: { readonly raw: RawResource }, resources: ValidResources): Enrollment {
  const own = svc.raw.metadata.labels;
  if (own[USE_WAYPOINT] !== undefined) return fromLabels(own, svc.raw.metadata.namespace, 'service');
  const ns = resources.namespaces.get(svc.raw.metadata.namespace);
  if (ns !== undefined && ns.raw.metadata.labels[USE_WAYPOINT] !== undefined) {
    return fromLabels(ns.raw.metadata.labels, svc.raw.metadata.namespace, 'namespace');
  }
  return { waypoint: undefined, source: 'none' };
}

function fromLabels(
  labels: Readonly<Record<string, string>>,
  defaultNamespace: string,
  source: 'service' | 'namespace',
): Enrollment {
  const name = labels[USE_WAYPOINT] ?? '';
  if (name === '' || name.toLowerCase() === 'none') return { waypoint: undefined, source };
  const namespace = labels[USE_WAYPOINT_NAMESPACE] ?? defaultNamespace;
  return { waypoint: `${namespace}/${name}`, source };
}
