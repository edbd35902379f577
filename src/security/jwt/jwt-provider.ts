// One `jwtRules` entry compiled into what the filter runs per request (Envoy's JwtProvider): issuer,
// audience check, where its keys come from, token locations and what a verified token writes upstream.
import { durationToMs, type JwtRule } from '../../config/model/request-authentication.js';
import { ALWAYS_SPACE_DELIMITED, claimPath } from './claims.js';
import { type KeySet, parseJwks } from './jwks.js';
import type { RemoteJwks } from './jwks-resolver.js';
import type { JwtStatus } from './jwt-status.js';
import { AudienceChecker } from './jwt-token.js';
import { ruleLocations, type TokenLocation } from './token-locations.js';

/** Istio's default JWKS fetch timeout. */
export const DEFAULT_JWKS_TIMEOUT_MS = 5000;

export type ProviderKeys =
  /** Inline `jwks`: parsed once; a document without usable keys fails every token with its status. */
  | { readonly kind: 'inline'; readonly keys: KeySet | JwtStatus }
  | { readonly kind: 'remote'; readonly source: RemoteJwks };

export interface ClaimHeader {
  readonly header: string;
  readonly path: ReadonlyArray<string>;
}

export interface JwtProvider {
  /** `namespace/name jwtRules[i]`, for logs. */
  readonly origin: string;
  readonly issuer: string;
  readonly audiences: AudienceChecker;
  readonly keys: ProviderKeys;
  /** Token locations in Envoy's extraction order. */
  readonly locations: ReadonlyArray<TokenLocation>;
  /** `forwardOriginalToken`: keep the token upstream (default: removed). */
  readonly forward: boolean;
  readonly payloadHeader: string | undefined;
  readonly claimHeaders: ReadonlyArray<ClaimHeader>;
  /** Claims split on spaces in `request.auth.claims` (scope, permission, spaceDelimitedClaims). */
  readonly spaceDelimited: ReadonlyArray<string>;
}

export function compileProvider(rule: JwtRule, origin: string): JwtProvider {
  const timeoutMs = rule.timeout === undefined ? DEFAULT_JWKS_TIMEOUT_MS : durationToMs(rule.timeout);
  // Istio uses the inline jwks when both are set.
  const keys: ProviderKeys = rule.jwks !== undefined
    ? { kind: 'inline', keys: parseJwks(rule.jwks) }
    : rule.jwksUri !== undefined
      ? { kind: 'remote', source: { kind: 'uri', uri: rule.jwksUri, timeoutMs } }
      : { kind: 'remote', source: { kind: 'discovery', issuer: rule.issuer, timeoutMs } };
  return Object.freeze({
    origin,
    issuer: rule.issuer,
    audiences: new AudienceChecker(rule.audiences),
    keys,
    locations: Object.freeze(ruleLocations(rule)),
    forward: rule.forwardOriginalToken,
    payloadHeader: rule.outputPayloadToHeader?.toLowerCase(),
    claimHeaders: Object.freeze(rule.outputClaimToHeaders.map((c) => Object.freeze({ header: c.header.toLowerCase(), path: claimPath(c.claim) }))),
    spaceDelimited: Object.freeze([...new Set([...ALWAYS_SPACE_DELIMITED, ...rule.spaceDelimitedClaims])]),
  });
}
