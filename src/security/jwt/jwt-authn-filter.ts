// The JWT authentication filter of one port (Envoy's jwt_authn as Istio configures it): a request without a
// token passes with no identity; every token found must verify; a verified token sets `ex.requestAuth`,
// writes the payload and claim headers and is removed upstream unless `forwardOriginalToken`.
import { LocalReplies } from '../../errors/local-reply.js';
import type { FilterOutcome, HttpFilter } from '../../filters/types.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import { claimHeaderValue, headerValue, requestAuthOf } from './claims.js';
import type { KeySet } from './jwks.js';
import type { JwksResolver, KeysOutcome, RemoteJwks } from './jwks-resolver.js';
import { httpStatusOf, JWT_STATUS_TEXT, type JwtStatus } from './jwt-status.js';
import type { JwtProvider } from './jwt-provider.js';
import { checkTime, type ParsedJwt, parseJwt } from './jwt-token.js';
import { hasUnknownKid, verifySignature } from './jwt-verify.js';
import { removeToken, type TokenLocation, tokensAt } from './token-locations.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

export interface JwtAuthnDeps {
  /** Remote JWKS cache; undefined when compiled without a runtime (validate): remote keys then fail closed. */
  readonly resolver: JwksResolver | undefined;
  /** Wall clock in ms (tests pin it). */
  readonly now: () => number;
  /** Verified tokens remembered per filter (0 turns the cache off). */
  readonly verifiedTokenCacheSize: number;
}

/** Clients send the same token for many requests; verifying it once per key set is enough. */
export const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 1000;

interface Found {
  readonly token: string;
  readonly location: TokenLocation;
}

interface Verified {
  readonly jwt: ParsedJwt;
  readonly location: TokenLocation;
}

type ProviderResult = { readonly status: 'Ok'; readonly verified: ReadonlyArray<Verified> } | { readonly status: Exclude<JwtStatus, 'Ok'> };

/** Envoy truncates the realm (the request URL without its query) to 256 characters. */
const MAX_REALM_LENGTH = 256;

export class JwtAuthnFilter implements HttpFilter {
  readonly name = 'envoy.filters.http.jwt_authn';
  readonly #providers: ReadonlyArray<JwtProvider>;
  /** Every distinct location of every provider: each is read once per request. */
  readonly #locations: ReadonlyArray<TokenLocation>;
  /** Output headers a client must not be able to forge (Envoy's sanitizeHeaders). */
  readonly #outputHeaders: ReadonlyArray<string>;
  readonly #deps: JwtAuthnDeps;
  readonly #verified: VerifiedTokenCache;

  constructor(providers: ReadonlyArray<JwtProvider>, deps: JwtAuthnDeps) {
    this.#providers = providers;
    this.#deps = deps;
    this.#verified = new VerifiedTokenCache(deps.verifiedTokenCacheSize);
    const locations = new Map<string, TokenLocation>();
    const outputs = new Set<string>();
    for (const p of providers) {
      for (const l of p.locations) if (!locations.has(l.id)) locations.set(l.id, l);
      if (p.payloadHeader !== undefined) outputs.add(p.payloadHeader);
      for (const c of p.claimHeaders) outputs.add(c.header);
    }
    this.#locations = [...locations.values()];
    this.#outputHeaders = [...outputs];
  }

  get providers(): ReadonlyArray<JwtProvider> {
    return this.#providers;
  }

  onRequestHeaders(ex: HttpExchange): FilterOutcome | Promise<FilterOutcome> {
    const headers = ex.requestHeaders;
    for (const h of this.#outputHeaders) headers.remove(h);
    // "The CORS preflight doesn't include user credentials": Istio sets bypass_cors_preflight.
    if (ex.method === 'OPTIONS' && nonEmpty(headers.get('origin')) && nonEmpty(headers.get('access-control-request-method'))) return undefined;
    let found: Map<string, string[]> | undefined;
    for (const loc of this.#locations) {
      const tokens = tokensAt(loc, headers, ex.path);
      if (tokens !== undefined) (found ??= new Map()).set(loc.id, tokens);
    }
    // No token anywhere: allowed, without a request identity (pair with requestPrincipals to require one).
    if (found === undefined) return undefined;
    return this.#authenticate(ex, found);
  }

  /**
   * Istio's requirement: one provider → that provider or allow-missing; several → any provider OR all of
   * (provider or allow-missing). Providers are tried in order; the first that verifies wins.
   */
  async #authenticate(ex: HttpExchange, found: ReadonlyMap<string, string[]>): Promise<FilterOutcome> {
    const providers = this.#providers;
    const parsed = providers.length > 1 ? new Map<string, ParsedJwt | JwtStatus>() : undefined;
    const statuses: JwtStatus[] = [];
    for (const p of providers) {
      const result = await this.#verifyProvider(p, found, parsed);
      if (result.status === 'Ok') {
        this.#accept(ex, p, result.verified);
        return undefined;
      }
      statuses.push(result.status);
    }
    // No provider verified. The ALL branch passes only when every provider found nothing; otherwise it fails
    // with the first provider's error, which joins the others in Envoy's RequiresAny aggregation.
    const firstError = statuses.find((s) => s !== 'JwtMissed');
    if (firstError === undefined) return undefined;
    if (providers.length > 1) statuses.push(firstError);
    return this.#deny(ex, aggregate(statuses));
  }

  /** Every token at the provider's locations must verify (Envoy checks them last to first). */
  async #verifyProvider(p: JwtProvider, found: ReadonlyMap<string, string[]>, parsed: Map<string, ParsedJwt | JwtStatus> | undefined): Promise<ProviderResult> {
    const tokens: Found[] = [];
    for (const location of p.locations) for (const token of found.get(location.id) ?? []) tokens.push({ token, location });
    if (tokens.length === 0) return { status: 'JwtMissed' };
    const verified: Verified[] = [];
    for (let i = tokens.length - 1; i >= 0; i--) {
      const t = tokens[i] as Found;
      const known = this.#verified.get(t.token);
      let jwt = known?.jwt ?? parsed?.get(t.token);
      if (jwt === undefined) {
        jwt = parseJwt(t.token);
        parsed?.set(t.token, jwt);
      }
      if (typeof jwt === 'string') return { status: jwt as Exclude<JwtStatus, 'Ok'> };
      const status = await this.#verifyToken(p, jwt, known?.keys);
      if (status !== 'Ok') return { status };
      verified.push({ jwt, location: t.location });
    }
    return { status: 'Ok', verified };
  }

  /** Envoy's order: issuer, time, audience, then keys and signature (skipped when `verifiedWith` is current). */
  async #verifyToken(p: JwtProvider, jwt: ParsedJwt, verifiedWith: KeySet | undefined): Promise<JwtStatus> {
    if (jwt.iss !== p.issuer) return 'JwtUnknownIssuer';
    const timeStatus = checkTime(jwt, Math.floor(this.#deps.now() / 1000));
    if (timeStatus !== undefined) return timeStatus;
    if (!p.audiences.allows(jwt.audiences)) return 'JwtAudienceNotAllowed';
    let keys: KeysOutcome;
    if (p.keys.kind === 'inline') keys = p.keys.keys;
    else {
      const resolver = this.#deps.resolver;
      const pending = resolver === undefined ? 'JwksFetchFail' : resolver.keys(p.keys.source);
      keys = pending instanceof Promise ? await pending : pending;
      if (resolver !== undefined && typeof keys !== 'string' && hasUnknownKid(jwt, keys)) keys = await afterRotation(resolver, p.keys.source, keys);
    }
    if (typeof keys === 'string') return keys;
    if (keys === verifiedWith) return 'Ok';
    const status = await verifySignature(jwt, keys);
    if (status === 'Ok') this.#verified.remember(jwt, keys);
    return status;
  }

  /** Side effects of the winning provider, per verified token in verification order (Envoy's handleGoodJwt). */
  #accept(ex: HttpExchange, p: JwtProvider, verified: ReadonlyArray<Verified>): void {
    const headers = ex.requestHeaders;
    let last: ParsedJwt | undefined;
    for (const v of verified) {
      if (p.payloadHeader !== undefined) headers.set(p.payloadHeader, v.jwt.payloadSegment);
      for (const c of p.claimHeaders) {
        const value = claimHeaderValue(v.jwt.payload, c.path);
        if (value !== undefined) headers.set(c.header, value);
      }
      if (!p.forward) ex.path = removeToken(v.location, headers, ex.path);
      last = v.jwt;
    }
    // Several tokens: the last one verified names the principal (Istio: "don't rely on it").
    if (last !== undefined) ex.requestAuth = requestAuthOf(last, p.spaceDelimited);
  }

  #deny(ex: HttpExchange, status: JwtStatus): FilterOutcome {
    const message = JWT_STATUS_TEXT[status];
    const q = ex.path.indexOf('?');
    const uri = `http://${ex.requestHeaders.get('host') ?? ''}${q < 0 ? ex.path : ex.path.slice(0, q)}`.slice(0, MAX_REALM_LENGTH);
    const realm = headerValue(uri.replaceAll('"', '%22')) ?? '';
    const challenge = status === 'JwtMissed' ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="invalid_token"`;
    return LocalReplies.jwtDenied(httpStatusOf(status), message, challenge);
  }
}

/**
 * Envoy's RequiresAny aggregation of failed children: a real error beats "issuer not configured", which
 * beats "missing"; among real errors the last one wins.
 */
export function aggregate(statuses: ReadonlyArray<JwtStatus>): JwtStatus {
  let final: JwtStatus = 'JwtMissed';
  for (const s of statuses) if ((s !== 'JwtMissed' && s !== 'JwtUnknownIssuer') || final === 'JwtMissed') final = s;
  return final;
}

/** An unknown `kid`: the issuer may have rotated keys; refetch (rate-limited) and use what comes back. */
async function afterRotation(resolver: JwksResolver, source: RemoteJwks, current: KeySet): Promise<KeysOutcome> {
  const refreshed = resolver.refreshForUnknownKid(source);
  if (refreshed === undefined) return current;
  const next = await refreshed;
  return typeof next === 'string' ? current : next;
}

function nonEmpty(v: string | undefined): boolean {
  return v !== undefined && v !== '';
}
