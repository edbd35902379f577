// Endpoint selection under a cluster's LbPolicy; least request (p2c) stays in load-balancer.ts.
import type { EndpointConfig } from '../../config/snapshot.js';
import { hash32 } from './hash.js';
import { hashKeyOf } from './hash-key.js';
import type { HashInput, LbPolicy } from './lb-policy.js';
import type { LbRuntime } from './lb-runtime.js';
import { maglevLookup } from './maglev.js';
import { ringLookup } from './ring-hash.js';

/**
 * The endpoint index under a non-default policy, or -1 to fall back to least request
 * (a hash policy whose key is missing from the request, as Envoy does with no hash).
 */
export function policyIndex(
  policy: Exclude<LbPolicy, { kind: 'least-request' }>,
  clusterId: string,
  endpoints: ReadonlyArray<EndpointConfig>,
  runtime: LbRuntime,
  random: () => number,
  input: HashInput | undefined,
): number {
  const n = endpoints.length;
  switch (policy.kind) {
    case 'round-robin':
      return runtime.nextRoundRobin(clusterId, n);
    case 'random':
      return Math.floor(random() * n);
    case 'hash': {
      if (input === undefined) return -1;
      const key = hashKeyOf(policy.key, input);
      if (key === undefined) return -1;
      const h = hash32(key);
      return policy.table.algorithm === 'maglev' ? maglevLookup(policy.table, h) : ringLookup(policy.table, h);
    }
  }
}
