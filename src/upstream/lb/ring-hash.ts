// Ring hash (Envoy RING_HASH, Ketama-style): each endpoint gets ceil(minimumRingSize / n) points on a 32-bit ring;
// a key goes to the first point at or after its hash, wrapping. Removing a host moves only the keys it owned.
import { hash32 } from './hash.js';
import type { HashTable } from './lb-policy.js';

/** Istio/Envoy default `minimumRingSize` (1024); capped so compile stays cheap for large rings. */
export const DEFAULT_MIN_RING_SIZE = 1024;
const MAX_RING_SIZE = 8_388_608;

export function buildRing(endpointKeys: ReadonlyArray<string>, minimumRingSize = DEFAULT_MIN_RING_SIZE): HashTable {
  const n = endpointKeys.length;
  const perHost = n === 0 ? 0 : Math.ceil(Math.min(minimumRingSize, MAX_RING_SIZE) / n);
  const entries: Array<[number, number]> = [];
  for (let e = 0; e < n; e++) {
    const key = endpointKeys[e] as string;
    for (let r = 0; r < perHost; r++) entries.push([hash32(`${key}_${r}`), e]);
  }
  // Ties broken by endpoint index, so the ring does not depend on sort stability.
  entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const points = new Uint32Array(entries.length);
  const owners = new Uint32Array(entries.length);
  entries.forEach(([h, e], i) => {
    points[i] = h;
    owners[i] = e;
  });
  return Object.freeze({ algorithm: 'ring-hash', points, owners });
}

/** Endpoint index owning `hash`, or -1 for an empty ring. */
export function ringLookup(table: HashTable, hash: number): number {
  const points = table.points;
  const n = points.length;
  if (n === 0) return -1;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((points[mid] as number) < hash) lo = mid + 1;
    else hi = mid;
  }
  return table.owners[lo === n ? 0 : lo] as number;
}
