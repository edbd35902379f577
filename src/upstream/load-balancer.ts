// Endpoint selection. Istio's default policy is LEAST_REQUEST, which Envoy implements as the
// power of two choices over active request counts; with one endpoint it is that endpoint.
// A DestinationRule's loadBalancer (cluster.lb) picks instead through lb/pick.ts.
import type { ClusterConfig, WeightedBackends, BackendTarget } from '../config/snapshot.js';
import type { EndpointRegistry, EndpointState } from './endpoint-registry.js';
import type { HashInput } from './lb/lb-policy.js';
import { policyIndex } from './lb/pick.js';
import { slowStartFactor } from './lb/slow-start.js';

/** Random source in [0, 1), passed in so tests can fix it. */
export type Random = () => number;

export function pickEndpoint(cluster: ClusterConfig, registry: EndpointRegistry, random: Random, input?: HashInput): EndpointState | undefined {
  const lb = cluster.lb;
  const warmup = lb?.kind === 'round-robin' || lb?.kind === 'least-request' ? lb.warmup : undefined;
  if (warmup === undefined) return pickOnce(cluster, registry, random, input);
  // Slow start: an endpoint still warming is kept with probability equal to its weight factor, else the policy
  // picks again, so its share ramps as Envoy's slow-start weight does (a few tries, then whatever came last).
  const now = registry.lb.now();
  let state: EndpointState | undefined;
  for (let i = 0; i < 4; i++) {
    state = pickOnce(cluster, registry, random, input);
    if (state === undefined) return undefined;
    const factor = slowStartFactor(warmup, registry.lb.joinedAt(cluster.id, state.key), now);
    if (factor >= 1 || random() < factor) return state;
  }
  return state;
}

function pickOnce(cluster: ClusterConfig, registry: EndpointRegistry, random: Random, input: HashInput | undefined): EndpointState | undefined {
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
    if (chosen !== undefined && (base === eps || !registry.outliers.isEjected(chosen.key))) return registry.get(chosen, cluster.upstream);
  }
  const first = eps[n === 1 ? 0 : Math.floor(random() * n)];
  if (first === undefined) return undefined;
  const a = registry.get(first, cluster.upstream);
  if (n === 1) return a;
  let j = Math.floor(random() * (n - 1));
  const firstIndex = eps.indexOf(first);
  if (j >= firstIndex) j++;
  const second = eps[j];
  if (second === undefined) return a;
  const b = registry.get(second, cluster.upstream);
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
