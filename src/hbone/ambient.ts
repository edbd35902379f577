// Which upstream endpoints are ambient-mesh workloads, reached through HBONE: the Pod's, else its
// Namespace's `istio.io/dataplane-mode` label ("resource-level label overrides namespace label";
// `ambient` enrolls, anything else such as `none` does not). Their expected identity is the Pod's
// service account (`default` when unset) when the Pod is known, else any account of its namespace.
import type { EndpointConfig, HboneEndpoint } from '../config/snapshot.js';
import type { ValidResources } from '../config/validate/validate.js';

export const DATAPLANE_MODE = 'istio.io/dataplane-mode';

/** Adds `hbone` to each endpoint of an ambient workload; `serviceNamespace` stands in when no Pod is named. */
export function markAmbient(endpoints: ReadonlyArray<EndpointConfig>, serviceNamespace: string, resources: ValidResources): EndpointConfig[] {
  return endpoints.map((e) => {
    const hbone = ambientPeer(e, serviceNamespace, resources);
    return hbone === undefined ? e : { ...e, hbone };
  });
}

function ambientPeer(e: EndpointConfig, serviceNamespace: string, resources: ValidResources): HboneEndpoint | undefined {
  // EndpointConfig.workload is `<kind> <namespace>/<name>` from the slice's targetRef.
  const ref = e.workload?.startsWith('Pod ') === true ? e.workload.slice(4) : undefined;
  const namespace = ref?.split('/')[0] ?? serviceNamespace;
  const pod = ref === undefined ? undefined : resources.pods.get(ref);
  const mode = pod?.raw.metadata.labels[DATAPLANE_MODE] ?? resources.namespaces.get(namespace)?.raw.metadata.labels[DATAPLANE_MODE];
  if (mode !== 'ambient') return undefined;
  return Object.freeze({ namespace, serviceAccount: pod === undefined ? undefined : pod.spec.serviceAccountName ?? 'default' });
}
