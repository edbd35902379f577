// Maglev (Eisenbud et al., 2016; Envoy MAGLEV): a lookup table of prime size M filled by each endpoint's
// permutation (offset, skip) in turn, giving near-equal shares and minimal disruption when hosts change.
import { hash32 } from './hash.js';
import type { HashTable } from './lb-policy.js';

/** Envoy's default table size (a prime). */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

export function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

export function buildMaglev(endpointKeys: ReadonlyArray<string>, tableSize = DEFAULT_MAGLEV_TABLE_SIZE): HashTable {
  const n = endpointKeys.length;
  const m = tableSize;
  const owners = new Uint32Array(n === 0 ? 0 : m);
  if (n > 0) {
    const offset = endpointKeys.map((k) => hash32(k, 0x9e3779b9) % m);
    const skip = endpointKeys.map((k) => (hash32(k, 0x7f4a7c15) % (m - 1)) + 1);
    const next = new Array<number>(n).fill(0);
    const filled = new Uint8Array(m);
    let count = 0;
    while (count < m) {
      for (let e = 0; e < n && count < m; e++) {
        let c = ((offset[e] as number) + (skip[e] as number) * (next[e] as number)) % m;
        while (filled[c] === 1) {
          next[e] = (next[e] as number) + 1;
          c = ((offset[e] as number) + (skip[e] as number) * (next[e] as number)) % m;
        }
        owners[c] = e;
        filled[c] = 1;
        next[e] = (next[e] as number) + 1;
        count++;
      }
    }
  }
  return Object.freeze({ algorithm: 'maglev', points: new Uint32Array(0), owners });
}

export function maglevLookup(table: HashTable, hash: number): number {
  const size = table.owners.length;
  return size === 0 ? -1 : (table.owners[hash % size] as number);
}
