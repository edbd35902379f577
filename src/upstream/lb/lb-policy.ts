// The compiled load-balancing policy of a cluster (from a DestinationRule's trafficPolicy.loadBalancer).
// Hash tables are built at compile time over the snapshot's endpoints, so the hot path only looks up.
import type { SlowStart } from './slow-start.js';

/** Where a consistent-hash key comes from (DestinationRule `consistentHash`). */
export type HashKeySource =
  | { readonly from: 'header'; readonly name: string }
  | {
      readonly from: 'cookie';
      readonly name: string;
      /** Set when the rule has a `ttl`: a missing cookie is generated and set on the response (hash-cookie.ts). */
      readonly generate?: { readonly ttlSeconds: number; readonly path: string | undefined; readonly attributes: ReadonlyArray<{ readonly name: string; readonly value: string | undefined }> };
    }
  | { readonly from: 'source-ip' }
  | { readonly from: 'query'; readonly name: string };

/** A lookup table from 32-bit hash to an index into the cluster's endpoints. */
export interface HashTable {
  readonly algorithm: 'ring-hash' | 'maglev';
  /** Ring hash: sorted point hashes with `owners[i]` the endpoint index; Maglev: `owners` indexed by hash % size. */
  readonly points: Uint32Array;
  readonly owners: Uint32Array;
}

export type LbPolicy =
  /** Istio's default (UNSPECIFIED, LEAST_CONN): Envoy's power of two choices over active requests. */
  | { readonly kind: 'least-request'; readonly warmup?: SlowStart }
  | { readonly kind: 'round-robin'; readonly warmup?: SlowStart }
  | { readonly kind: 'random' }
  | { readonly kind: 'hash'; readonly key: HashKeySource; readonly table: HashTable };

export const LEAST_REQUEST: LbPolicy = Object.freeze({ kind: 'least-request' });

/** What a hash policy reads from the request: passed by the caller, computed only for hash clusters. */
export interface HashInput {
  readonly headers: { get(name: string): string | undefined };
  readonly path: string;
  readonly sourceIp: string;
  /** The cookie generated for this request (hash-cookie.ts), hashed on when the request has none. */
  readonly generatedCookie?: string;
}
