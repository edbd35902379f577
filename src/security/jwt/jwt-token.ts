// Parsing a compact JWT and checking its claims the way Envoy's jwt_verify_lib does (Jwt::parseFromString,
// verifyTimeConstraint, CheckAudience), so every rejection carries Envoy's status. No cryptography here:
// signatures are checked by jose in jwt-verify.ts, after these cheaper checks, as Envoy orders them.
import type { JwtStatus } from './jwt-status.js';

/** Every `alg` Envoy's jwt_authn implements; anything else (including `none`) is "not supported". */
export const SUPPORTED_ALGS = ['ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;
export type JwsAlg = (typeof SUPPORTED_ALGS)[number];
const SUPPORTED: ReadonlySet<string> = new Set(SUPPORTED_ALGS);

/** Envoy's default clock skew for `exp` and `nbf` (Istio does not change it). */
export const CLOCK_SKEW_SECONDS = 60;

export interface ParsedJwt {
  readonly token: string;
  readonly alg: JwsAlg;
  /** `kid` header, '' when absent. */
  readonly kid: string;
  /** `iss` claim, '' when absent. */
  readonly iss: string;
  readonly sub: string | undefined;
  readonly audiences: ReadonlyArray<string>;
  /** `nbf` / `exp` in seconds, 0 when absent. */
  readonly nbf: number;
  readonly exp: number;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The payload exactly as it appears in the token (base64url), for `outputPayloadToHeader`. */
  readonly payloadSegment: string;
  /** Decoded signature length in bytes. */
  readonly signatureBytes: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Parses a compact JWT; returns the jwt_verify_lib status when it is malformed. */
export function parseJwt(token: string): ParsedJwt | JwtStatus {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  // Exactly two dots and three non-empty sections.
  if (second < 0 || token.indexOf('.', second + 1) >= 0 || first === 0 || second === first + 1 || second === token.length - 1) return 'JwtBadFormat';
  const headerSegment = token.slice(0, first);
  const payloadSegment = token.slice(first + 1, second);
  const signatureSegment = token.slice(second + 1);

  const header = decodeJsonObject(headerSegment);
  if (header === 'bad-base64') return 'JwtHeaderParseErrorBadBase64';
  if (header === 'bad-json') return 'JwtHeaderParseErrorBadJson';
  const alg = header['alg'];
  if (typeof alg !== 'string') return 'JwtHeaderBadAlg';
  if (!SUPPORTED.has(alg)) return 'JwtHeaderNotImplementedAlg';
  const kid = header['kid'];
  if (kid !== undefined && typeof kid !== 'string') return 'JwtHeaderBadKid';

  const payload = decodeJsonObject(payloadSegment);
  if (payload === 'bad-base64') return 'JwtPayloadParseErrorBadBase64';
  if (payload === 'bad-json') return 'JwtPayloadParseErrorBadJson';
  const iss = payload['iss'];
  if (iss !== undefined && typeof iss !== 'string') return 'JwtPayloadParseErrorIssNotString';
  const sub = payload['sub'];
  if (sub !== undefined && typeof sub !== 'string') return 'JwtPayloadParseErrorSubNotString';
  const iat = timeClaim(payload['iat']);
  if (iat === 'wrong-type') return 'JwtPayloadParseErrorIatNotInteger';
  if (iat === 'out-of-range') return 'JwtPayloadParseErrorIatOutOfRange';
  const nbf = timeClaim(payload['nbf']);
  if (nbf === 'wrong-type') return 'JwtPayloadParseErrorNbfNotInteger';
  if (nbf === 'out-of-range') return 'JwtPayloadParseErrorNbfOutOfRange';
  const exp = timeClaim(payload['exp']);
  if (exp === 'wrong-type') return 'JwtPayloadParseErrorExpNotInteger';
  if (exp === 'out-of-range') return 'JwtPayloadParseErrorExpOutOfRange';
  const jti = payload['jti'];
  if (jti !== undefined && typeof jti !== 'string') return 'JwtPayloadParseErrorJtiNotString';
  const audiences = audienceList(payload['aud']);
  if (audiences === undefined) return 'JwtPayloadParseErrorAudNotString';

  const signature = decodeBase64url(signatureSegment);
  if (signature === undefined) return 'JwtSignatureParseErrorBadBase64';
  return {
    token,
    alg: alg as JwsAlg,
    kid: kid ?? '',
    iss: iss ?? '',
    sub,
    audiences,
    nbf,
    exp,
    payload,
    payloadSegment,
    signatureBytes: signature.length,
  };
}

/** `nbf` and `exp` with Envoy's clock skew; `now` in seconds. */
export function checkTime(jwt: ParsedJwt, nowSeconds: number): JwtStatus | undefined {
  if (nowSeconds + CLOCK_SKEW_SECONDS < jwt.nbf) return 'JwtNotYetValid';
  if (jwt.exp !== 0 && nowSeconds > jwt.exp + CLOCK_SKEW_SECONDS) return 'JwtExpired';
  return undefined;
}

/**
 * jwt_verify_lib's CheckAudience: a token passes when any of its `aud` values is configured, both sides
 * compared without an `http://`/`https://` scheme and a trailing slash. No configured audience = any.
 */
export class AudienceChecker {
  readonly #allowed: ReadonlySet<string>;

  constructor(audiences: ReadonlyArray<string>) {
    this.#allowed = new Set(audiences.map(sanitizeAudience));
  }

  allows(audiences: ReadonlyArray<string>): boolean {
    if (this.#allowed.size === 0) return true;
    for (const a of audiences) if (this.#allowed.has(sanitizeAudience(a))) return true;
    return false;
  }
}

export function sanitizeAudience(aud: string): string {
  let start = 0;
  if (aud.startsWith('https://')) start = 8;
  else if (aud.startsWith('http://')) start = 7;
  const end = aud.endsWith('/') ? aud.length - 1 : aud.length;
  return start === 0 && end === aud.length ? aud : aud.slice(start, Math.max(start, end));
}

/** Strict base64url (RFC 4648 §5, padding optional), or undefined when the text is not base64url. */
export function decodeBase64url(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment)) return undefined;
  const unpadded = segment.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (segment.length !== unpadded.length && segment.length % 4 !== 0) return undefined;
  return Buffer.from(unpadded, 'base64url');
}

function decodeJsonObject(segment: string): Record<string, unknown> | 'bad-base64' | 'bad-json' {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined) return 'bad-base64';
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return 'bad-json';
  }
  // A protobuf Struct: only a JSON object is a header or a claims set.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'bad-json';
  return value as Record<string, unknown>;
}

/** jwt_verify_lib's GetUInt64: absent → 0; not a number → wrong type; negative or ≥ 2^64 → out of range. */
function timeClaim(value: unknown): number | 'wrong-type' | 'out-of-range' {
  if (value === undefined) return 0;
  if (typeof value !== 'number') return 'wrong-type';
  if (!(value >= 0) || value >= 18446744073709551615) return 'out-of-range';
  return Math.trunc(value);
}

/** `aud` is a string or a list of strings; undefined when it is neither. */
function audienceList(value: unknown): ReadonlyArray<string> | undefined {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return undefined;
  for (const v of value) if (typeof v !== 'string') return undefined;
  return value as string[];
}
