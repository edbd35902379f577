// The /config_dump view of a cluster's load-balancing policy (Envoy's lb_policy names).
import type { LbPolicy } from './lb-policy.js';

export function describeLb(lb: LbPolicy): unknown {
  switch (lb.kind) {
    case 'least-request':
      return lb.warmup === undefined ? 'LEAST_REQUEST' : { policy: 'LEAST_REQUEST', slowStart: lb.warmup };
    case 'round-robin':
      return lb.warmup === undefined ? 'ROUND_ROBIN' : { policy: 'ROUND_ROBIN', slowStart: lb.warmup };
    case 'random':
      return 'RANDOM';
    case 'hash': {
      const key = lb.key;
      const cookie = key.from === 'cookie' && key.generate !== undefined ? { ttlSeconds: key.generate.ttlSeconds, ...(key.generate.path === undefined ? {} : { path: key.generate.path }) } : undefined;
      return {
        [lb.table.algorithm === 'maglev' ? 'MAGLEV' : 'RING_HASH']: lb.table.algorithm === 'maglev' ? { tableSize: lb.table.owners.length } : { ringSize: lb.table.points.length },
        hashPolicy: key.from === 'source-ip' ? { sourceIp: true } : { [key.from]: key.name, ...(cookie === undefined ? {} : { generate: cookie }) },
      };
    }
  }
}
