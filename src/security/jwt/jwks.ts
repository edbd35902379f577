// A JWKS document parsed into verification keys with jwt_verify_lib's rules (Jwks::createFrom): keys of an
// unknown `kty` or with bad fields are skipped, and a document left without keys has "no valid public key".
// Key material is imported by jose, lazily per algorithm, and the imported key is kept with the key set.
import type { CryptoKey, JWK } from 'jose';
import { jose } from './lazy-jose.js';
import type { JwtStatus } from './jwt-status.js';
import type { JwsAlg } from './jwt-token.js';

/** What verification uses: a WebCrypto key or, for HMAC, the secret bytes. */
export type VerificationKey = CryptoKey | Uint8Array;

export interface KeyEntry {
  readonly kty: 'RSA' | 'EC' | 'oct' | 'OKP';
  /** '' when the JWK has no `kid` / `alg` (such keys match any token). */
  readonly kid: string;
  readonly alg: string;
  /** EC / OKP curve, '' for RSA and oct. */
  readonly crv: string;
  /** Only the public parameters of the key, as jose imports them. */
  readonly material: JWK;
  /** Imported keys by algorithm; undefined when jose refused the material. */
  readonly imported: Map<JwsAlg, Promise<VerificationKey | undefined>>;
}

export interface KeySet {
  readonly keys: ReadonlyArray<KeyEntry>;
  /** Every non-empty `kid`, to tell an unknown key id (refresh the JWKS) from a bad signature. */
  readonly kids: ReadonlySet<string>;
}

const B64URL_FIELD = /^[A-Za-z0-9_-]+={0,2}$/;
const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Parses a JWKS from its JSON text (or an already parsed value). */
export function parseJwks(input: string | unknown): KeySet | JwtStatus {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch {
      return 'JwksParseError';
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'JwksParseError';
  if (!Object.hasOwn(doc, 'keys')) return 'JwksNoKeys';
  const list = (doc as Record<string, unknown>)['keys'];
  if (!Array.isArray(list)) return 'JwksBadKeys';
  const keys: KeyEntry[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
    const entry = keyEntry(item as Record<string, unknown>);
    if (entry !== undefined) keys.push(entry);
  }
  if (keys.length === 0) return 'JwksNoValidKeys';
  const kids = new Set<string>();
  for (const k of keys) if (k.kid !== '') kids.add(k.kid);
  return Object.freeze({ keys: Object.freeze(keys), kids });
}

/** The key imported for `alg` (cached on the entry); undefined when the material cannot be used. */
export function importedKey(entry: KeyEntry, alg: JwsAlg): Promise<VerificationKey | undefined> {
  let pending = entry.imported.get(alg);
  if (pending === undefined) {
    pending = Promise.resolve(jose()).then((j) => j.importJWK(entry.material, alg)).then(
      (key) => key,
      () => undefined,
    );
    entry.imported.set(alg, pending);
  }
  return pending;
}

/** Whether a key of this type and curve can check a signature made with `alg` at all. */
export function keyFitsAlg(entry: KeyEntry, alg: JwsAlg): boolean {
  switch (entry.kty) {
    case 'RSA':
      return alg.startsWith('RS') || alg.startsWith('PS');
    case 'EC':
      return EC_CURVES[alg] === entry.crv;
    case 'oct':
      return alg.startsWith('HS');
    case 'OKP':
      return alg === 'EdDSA' && entry.crv === 'Ed25519';
  }
}

function keyEntry(jwk: Record<string, unknown>): KeyEntry | undefined {
  const kty = jwk['kty'];
  if (typeof kty !== 'string') return undefined;
  const kid = typeof jwk['kid'] === 'string' ? jwk['kid'] : '';
  const alg = typeof jwk['alg'] === 'string' ? jwk['alg'] : '';
  switch (kty) {
    case 'RSA': {
      if (alg !== '' && !alg.startsWith('RS') && !alg.startsWith('PS')) return undefined;
      const n = field(jwk, 'n');
      const e = field(jwk, 'e');
      if (n === undefined || e === undefined) return undefined;
      return entry('RSA', kid, alg, '', { kty, n, e });
    }
    case 'EC': {
      if (alg !== '' && !alg.startsWith('ES')) return undefined;
      const crvField = jwk['crv'];
      if (crvField !== undefined && typeof crvField !== 'string') return undefined;
      const crv = crvField ?? EC_CURVES[alg] ?? 'P-256';
      if (crv !== 'P-256' && crv !== 'P-384' && crv !== 'P-521') return undefined;
      if (alg !== '' && EC_CURVES[alg] !== crv) return undefined;
      const x = field(jwk, 'x');
      const y = field(jwk, 'y');
      if (x === undefined || y === undefined) return undefined;
      return entry('EC', kid, alg, crv, { kty, crv, x, y });
    }
    case 'oct': {
      if (alg !== '' && !alg.startsWith('HS')) return undefined;
      const k = field(jwk, 'k');
      if (k === undefined) return undefined;
      return entry('oct', kid, alg, '', { kty, k });
    }
    case 'OKP': {
      if (alg !== '' && alg !== 'EdDSA') return undefined;
      if (jwk['crv'] !== 'Ed25519') return undefined;
      const x = field(jwk, 'x');
      if (x === undefined) return undefined;
      return entry('OKP', kid, alg, 'Ed25519', { kty, crv: 'Ed25519', x });
    }
    default:
      return undefined;
  }
}

function field(jwk: Record<string, unknown>, name: string): string | undefined {
  const v = jwk[name];
  return typeof v === 'string' && B64URL_FIELD.test(v) ? v : undefined;
}

function entry(kty: KeyEntry['kty'], kid: string, alg: string, crv: string, material: JWK): KeyEntry {
  return { kty, kid, alg, crv, material, imported: new Map() };
}
