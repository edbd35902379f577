// Signature verification of a parsed JWT against a key set: key selection as jwt_verify_lib does it
// (verifyJwtWithoutTimeChecking), the signature itself checked by jose. A key's type decides what it can
// verify, never the token's `alg`: an HS256 token is never checked with an RSA key's bytes as a secret.
import { importedKey, type KeySet, keyFitsAlg } from './jwks.js';
import { jose } from './lazy-jose.js';
import type { JwtStatus } from './jwt-status.js';
import type { ParsedJwt } from './jwt-token.js';

const ED25519_SIGNATURE_BYTES = 64;

/**
 * Tries every key whose `kid` (when both sides have one) and `alg` (when the key has one) match the token.
 * `Ok` when one verifies; `JwtVerificationFail` when some matched but none verified; `JwksKidAlgMismatch`
 * when no key matched at all.
 */
export async function verifySignature(jwt: ParsedJwt, keys: KeySet): Promise<JwtStatus> {
  let matched = false;
  for (const key of keys.keys) {
    if (jwt.kid !== '' && key.kid !== '' && key.kid !== jwt.kid) continue;
    if (key.alg !== '' && key.alg !== jwt.alg) continue;
    matched = true;
    if (!keyFitsAlg(key, jwt.alg)) continue;
    if (jwt.alg === 'EdDSA' && jwt.signatureBytes !== ED25519_SIGNATURE_BYTES) return 'JwtEd25519SignatureWrongLength';
    const material = await importedKey(key, jwt.alg);
    if (material === undefined) continue;
    try {
      // importedKey loaded jose already: no import waits here.
      const { compactVerify } = await jose();
      await compactVerify(jwt.token, material, { algorithms: [jwt.alg] });
      return 'Ok';
    } catch {
      // A bad signature, or jose refusing the key (e.g. an RSA modulus under 2048 bits): try the next key.
    }
  }
  return matched ? 'JwtVerificationFail' : 'JwksKidAlgMismatch';
}

/** True when the token names a key id the set does not have: the issuer may have rotated its keys. */
export function hasUnknownKid(jwt: ParsedJwt, keys: KeySet): boolean {
  return jwt.kid !== '' && !keys.kids.has(jwt.kid);
}
