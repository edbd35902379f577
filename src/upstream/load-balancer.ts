// Endpoint selection. Istio's default policy is LEAST_REQUEST, which Envoy implements as the
// power of two choices over active request counts; with one endpoint it is that endpoint.
// A DestinationRule's loadBalancer (cluster.lb) picks instead through lb/pick.ts.
import type { ClusterConfig, WeightedBackends, BackendTarget } from '../config/snapshot.js';
import type { EndpointRegistry, EndpointState } from './endpoint-registry.js';
import type { HashInput } from './lb/lb-policy.js';
import { policyIndex } from './lb/pick.js';

/** Random source in [0, 1), passed in so tests can fix it. */
export type Random = () => number;

export function pickEndpoint(cluster: ClusterConfig, registry: EndpointRegistry, random: Random, input?: HashInput): EndpointState | undefined {
  const all = cluster.endpoints;
  // Outlier detection: ejected endpoints are left out (all of them are used below minHealthPercent).
  const eps = cluster.outlier === undefined ? all : registry.outliers.healthy(cluster.outlier, all);
  const n = eps.length;
  if (n === 0) return undefined;
  const lb = cluster.lb;
  if (lb !== undefined && lb.kind !== 'least-request') {
    // Hash tables index the cluster's full endpoint list; an ejected owner falls through to least request.
    const base = lb.kind === 'hash' ? all : eps;
    const chosen = base[policyIndex(lb, cluster.id, base, registry.lb, random, input)];
    if (chosen !== undefined && (base === eps || !registry.outliers.isEjected(chosen.key))) return registry.get(chosen);
  }
  const first = eps[n === 1 ? 0 : Math.floor(random() * n)];
  if (first === undefined) return undefined;
  const a = registry.get(first);
  if (n === 1) return a;
  let j = Math.floor(random() * (n - 1));
  const firstIndex = eps.indexOf(first);
  if (j >= firstIndex) j++;
  const second = eps[j];
  if (second === undefined) return a;
  const b = registry.get(second);
  return b.active < a.active ? b : a;
}

/** Weighted pick among a rule's backendRefs: "proportion = weight / sum of weights". */
export function pickBackend(backends: WeightedBackends, random: Random): BackendTarget | undefined {
  const targets = backends.targets;
  if (targets.length === 1) return targets[0];
  const r = random() * backends.total;
  const sums = backends.cumulative;
  let lo = 0;
  let hi = sums.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r < (sums[mid] ?? 0)) hi = mid;
    else lo = mid + 1;
  }
  return targets[lo];
}
