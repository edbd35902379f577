// Tokens whose signature already verified, keyed by the exact token text (Envoy's jwt_cache, bounded LRU).
// A hit skips parsing and the signature check only while the key set it was verified with is still the
// current one; issuer, time and audience are checked again on every request.
import type { KeySet } from './jwks.js';
import type { ParsedJwt } from './jwt-token.js';

export interface VerifiedToken {
  readonly jwt: ParsedJwt;
  readonly keys: KeySet;
}

/** Larger tokens are verified every time rather than held in memory. */
const MAX_CACHED_TOKEN_LENGTH = 8192;

export class VerifiedTokenCache {
  readonly #capacity: number;
  readonly #entries = new Map<string, VerifiedToken>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(token: string): VerifiedToken | undefined {
    const hit = this.#entries.get(token);
    if (hit !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.#entries.delete(token);
      this.#entries.set(token, hit);
    }
    return hit;
  }

  remember(jwt: ParsedJwt, keys: KeySet): void {
    if (this.#capacity === 0 || jwt.token.length > MAX_CACHED_TOKEN_LENGTH) return;
    this.#entries.delete(jwt.token);
    this.#entries.set(jwt.token, { jwt, keys });
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
