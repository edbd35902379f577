// The /config_dump view of a cluster's load-balancing policy (Envoy's lb_policy names).
import type { LbPolicy } from './lb-policy.js';

export function describeLb(lb: LbPolicy): unknown {
  switch (lb.kind) {
    case 'least-request':
      return 'LEAST_REQUEST';
    case 'round-robin':
      return 'ROUND_ROBIN';
    case 'random':
      return 'RANDOM';
    case 'hash':
      return {
        [lb.table.algorithm === 'maglev' ? 'MAGLEV' : 'RING_HASH']: lb.table.algorithm === 'maglev' ? { tableSize: lb.table.owners.length } : { ringSize: lb.table.points.length },
        hashPolicy: lb.key.from === 'source-ip' ? { sourceIp: true } : { [lb.key.from]: lb.key.name },
      };
  }
}
