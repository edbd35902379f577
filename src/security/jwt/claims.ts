// What a verified JWT hands on: the request identity authorization policies match (`request.auth.*`) and
// the claim values copied to headers (`outputClaimToHeaders`), formatted as Envoy formats them.
import type { RequestAuth } from '../../proxy/http-exchange.js';
import type { ParsedJwt } from './jwt-token.js';

/** Claims Istio always splits on spaces for matching (`scope`, `permission`), plus `spaceDelimitedClaims`. */
export const ALWAYS_SPACE_DELIMITED: ReadonlyArray<string> = ['scope', 'permission'];

/**
 * `request.auth.principal` is `iss/sub`; audiences from `aud`; presenter from `azp`; claims are the payload
 * with each space-delimited claim that is a string turned into the list of its words (Envoy's
 * normalize_payload_in_metadata), so `request.auth.claims[scope]` matches one scope.
 */
export function requestAuthOf(jwt: ParsedJwt, spaceDelimited: ReadonlyArray<string>): RequestAuth {
  const payload = jwt.payload;
  let claims: Record<string, unknown> | undefined;
  for (const name of spaceDelimited) {
    if (!Object.hasOwn(payload, name)) continue;
    const value = payload[name];
    if (typeof value !== 'string') continue;
    claims ??= { ...payload };
    claims[name] = value.split(' ').filter((w) => w !== '');
  }
  const azp = payload['azp'];
  return Object.freeze({
    principal: `${jwt.iss}/${jwt.sub ?? ''}`,
    audiences: jwt.audiences,
    presenter: typeof azp === 'string' ? azp : undefined,
    claims: claims ?? payload,
  });
}

/** A claim path (`a.b.c` selects nested objects), split once at compile time. */
export function claimPath(claim: string): ReadonlyArray<string> {
  return claim.split('.');
}

/**
 * The header value for a claim, as Envoy's addJWTClaimToHeader writes it: strings as they are, integers
 * in decimal, other numbers with six decimals, booleans as `true`/`false`, objects and lists as base64 of
 * their JSON. Undefined when the claim is absent, empty, or cannot be a header value.
 */
export function claimHeaderValue(payload: Readonly<Record<string, unknown>>, path: ReadonlyArray<string>): string | undefined {
  let value: unknown = payload;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') text = formatNumber(value);
  else if (typeof value === 'boolean') text = value ? 'true' : 'false';
  else if (typeof value === 'object' && value !== null) text = Buffer.from(JSON.stringify(value)).toString('base64');
  else return undefined;
  return text === '' ? undefined : headerValue(text);
}

/** Envoy's convertClaimDoubleToString: unsigned 64-bit integers as integers, anything else as %f. */
function formatNumber(n: number): string {
  if (n >= 0 && n < 18446744073709551615 && Number.isInteger(n)) return BigInt(n).toString();
  return n.toFixed(6);
}

/**
 * A value safe to put in a header: control characters (CR, LF, NUL...) make the claim unusable rather than
 * letting a token inject headers; non-ASCII text is sent as its UTF-8 bytes.
 */
export function headerValue(text: string): string | undefined {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    if (c > 0x7e) ascii = false;
  }
  return ascii ? text : Buffer.from(text, 'utf8').toString('latin1');
}
