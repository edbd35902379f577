// Remote JWKS, kept outside the snapshot so keys survive config reloads: fetched on first use (with the rule's
// timeout), cached, refreshed in the background (istiod's 20 min, 1 min after a failure), refetched when a
// token names an unknown `kid` (rate-limited), and found by OpenID discovery when a rule has no JWKS at all.
// A JWKS that cannot be fetched fails closed: presented tokens get "Jwks remote fetch is failed".
import type { Logger } from '../../observability/logger.js';
import { JsonFetcher } from './json-fetch.js';
import { type KeySet, parseJwks } from './jwks.js';
import { JWT_STATUS_TEXT, type JwtStatus } from './jwt-status.js';

/** Where a rule's keys come from when it has no inline `jwks`. */
export type RemoteJwks =
  | { readonly kind: 'uri'; readonly uri: string; readonly timeoutMs: number }
  /** No `jwks` nor `jwksUri`: `<issuer>/.well-known/openid-configuration` names the `jwks_uri`. */
  | { readonly kind: 'discovery'; readonly issuer: string; readonly timeoutMs: number };

export interface JwksResolverOptions {
  /** Background refresh of every JWKS in use (istiod: PILOT_JWT_PUB_KEY_REFRESH_INTERVAL, 20 min). */
  readonly refreshIntervalMs: number;
  /** Background retry after a failed fetch (istiod: 1 min). */
  readonly retryIntervalMs: number;
  /** At most one request-triggered fetch per JWKS in this interval (first use after a failure, unknown kid). */
  readonly minRefetchIntervalMs: number;
  /** A JWKS no request has used for this long is dropped (istiod: 7 days). */
  readonly evictAfterMs: number;
  /** Largest JWKS or OpenID configuration document accepted. */
  readonly maxDocumentBytes: number;
  readonly now: () => number;
  readonly log: Logger | undefined;
}

export const DEFAULT_JWKS_RESOLVER_OPTIONS: JwksResolverOptions = {
  refreshIntervalMs: 20 * 60_000,
  retryIntervalMs: 60_000,
  minRefetchIntervalMs: 5_000,
  evictAfterMs: 7 * 24 * 3_600_000,
  maxDocumentBytes: 512 * 1024,
  now: Date.now,
  log: undefined,
};

export type KeysOutcome = KeySet | JwtStatus;

class Entry {
  keys: KeySet | undefined = undefined;
  inflight: Promise<void> | undefined = undefined;
  /** Start of the last fetch attempt, for the request-triggered rate limit. */
  lastAttemptMs = Number.NEGATIVE_INFINITY;
  lastUsedMs: number;
  timer: NodeJS.Timeout | undefined = undefined;

  constructor(readonly key: string, public source: RemoteJwks, now: number) {
    this.lastUsedMs = now;
  }
}

export class JwksResolver {
  readonly #options: JwksResolverOptions;
  readonly #fetcher = new JsonFetcher();
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(options: Partial<JwksResolverOptions> = {}) {
    this.#options = { ...DEFAULT_JWKS_RESOLVER_OPTIONS, ...options };
  }

  /** The keys of `source`: synchronously when cached, else after one fetch shared by concurrent requests. */
  keys(source: RemoteJwks): KeysOutcome | Promise<KeysOutcome> {
    const entry = this.#entry(source);
    if (entry.keys !== undefined) return entry.keys;
    if (entry.inflight !== undefined) return entry.inflight.then(() => entry.keys ?? 'JwksFetchFail');
    // A fetch failed moments ago: fail closed now instead of hammering the issuer on every request.
    if (this.#options.now() - entry.lastAttemptMs < this.#options.minRefetchIntervalMs || this.#closed) return 'JwksFetchFail';
    return this.#fetch(entry, 'first use').then(() => entry.keys ?? 'JwksFetchFail');
  }

  /**
   * A token names a `kid` the cached set lacks: refetch now unless a fetch ran within minRefetchIntervalMs.
   * Resolves to the (possibly unchanged) keys, or undefined when rate-limited.
   */
  refreshForUnknownKid(source: RemoteJwks): Promise<KeysOutcome> | undefined {
    const entry = this.#entry(source);
    const done = (): KeysOutcome => entry.keys ?? 'JwksFetchFail';
    if (entry.inflight !== undefined) return entry.inflight.then(done);
    if (this.#options.now() - entry.lastAttemptMs < this.#options.minRefetchIntervalMs || this.#closed) return undefined;
    return this.#fetch(entry, 'unknown kid').then(done);
  }

  /** Number of JWKS currently cached or being fetched (for tests and /stats). */
  get size(): number {
    return this.#entries.size;
  }

  /** Stops background refreshes and closes connections. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const e of this.#entries.values()) clearTimeout(e.timer);
    this.#entries.clear();
    await this.#fetcher.close();
  }

  #entry(source: RemoteJwks): Entry {
    const key = source.kind === 'uri' ? `uri ${source.uri}` : `oidc ${source.issuer}`;
    const now = this.#options.now();
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = new Entry(key, source, now);
      if (!this.#closed) this.#entries.set(key, entry);
    }
    entry.lastUsedMs = now;
    // The newest rule's timeout wins when several rules share a JWKS.
    entry.source = source;
    return entry;
  }

  #fetch(entry: Entry, reason: string): Promise<void> {
    entry.lastAttemptMs = this.#options.now();
    const run = this.#load(entry.source).then(
      (outcome) => {
        if (typeof outcome === 'string') {
          this.#options.log?.warn('JWKS document rejected: keeping the previous keys', { jwks: entry.key, reason, status: JWT_STATUS_TEXT[outcome] });
          return false;
        }
        entry.keys = outcome;
        this.#options.log?.debug('JWKS fetched', { jwks: entry.key, reason, keys: outcome.keys.length });
        return true;
      },
      (err: unknown) => {
        this.#options.log?.warn('JWKS fetch failed: presented tokens of this issuer are rejected until it succeeds', { jwks: entry.key, reason, error: err instanceof Error ? err.message : String(err) });
        return false;
      },
    ).then((ok) => {
      entry.inflight = undefined;
      this.#schedule(entry, ok ? this.#options.refreshIntervalMs : this.#options.retryIntervalMs);
    });
    entry.inflight = run;
    return run;
  }

  /** Background refresh: keeps keys fresh while the JWKS is used, drops it once unused for evictAfterMs. */
  #schedule(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    if (this.#closed || this.#entries.get(entry.key) !== entry) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      // A JWKS that never loaded is not retried for long once nothing asks for it (e.g. its policy is gone).
      const idleLimit = entry.keys === undefined ? Math.min(this.#options.refreshIntervalMs, this.#options.evictAfterMs) : this.#options.evictAfterMs;
      if (this.#options.now() - entry.lastUsedMs > idleLimit) {
        this.#entries.delete(entry.key);
        return;
      }
      if (entry.inflight === undefined) void this.#fetch(entry, 'scheduled refresh');
    }, delayMs);
    entry.timer.unref();
  }

  async #load(source: RemoteJwks): Promise<KeysOutcome> {
    const limits = { timeoutMs: source.timeoutMs, maxBytes: this.#options.maxDocumentBytes };
    const uri = source.kind === 'uri' ? source.uri : await this.#discover(source.issuer, limits);
    return parseJwks(await this.#fetcher.get(uri, limits));
  }

  /** OpenID Connect discovery (istiod's resolveJwksURIUsingOpenID): the `jwks_uri` of the issuer. */
  async #discover(issuer: string, limits: { timeoutMs: number; maxBytes: number }): Promise<string> {
    if (!/^https?:\/\//.test(issuer)) throw new Error(`issuer "${issuer}" is not an http(s) URL, so its OpenID configuration cannot be discovered`);
    const doc = await this.#fetcher.get(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, limits);
    const uri = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['jwks_uri'] : undefined;
    if (typeof uri !== 'string' || !/^https?:\/\//.test(uri)) throw new Error('the OpenID configuration has no http(s) "jwks_uri"');
    return uri;
  }
}
