// The waypoint's own workload identity from PEM files (--cert, --key, --trust-bundle): parsed, checked
// (key matches, one SPIFFE URI SAN in the trust domain, currently valid, chains to the bundle) and
// turned into the TLS material both HBONE directions use.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type SpiffeId, spiffeIdOfSan } from './spiffe-id.js';

export interface IdentityFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustBundleFile: string;
  /** Peers (and this identity) must be `spiffe://<trustDomain>/...`. */
  readonly trustDomain: string;
}

export interface WorkloadIdentity {
  readonly id: SpiffeId;
  /** The certificate file as given: the leaf, optionally followed by intermediates. */
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
  /** Root certificates peers must chain to. */
  readonly trustBundlePem: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 fingerprint of the leaf: tells rotations apart in logs. */
  readonly fingerprint: string;
}

export class IdentityError extends Error {}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM text, in order. */
export function pemCertificates(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERT) ?? []).map((block) => new X509Certificate(block));
}

async function read(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new IdentityError(`cannot read the ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Reads and checks the files; throws IdentityError naming the file and the problem. */
export async function loadIdentity(files: IdentityFiles, now = new Date()): Promise<WorkloadIdentity> {
  const [certPem, keyPem, trustBundlePem] = await Promise.all([
    read(files.certFile, 'certificate'),
    read(files.keyFile, 'private key'),
    read(files.trustBundleFile, 'trust bundle'),
  ]);
  return checkIdentity(files, certPem, keyPem, trustBundlePem, now);
}

export function checkIdentity(files: IdentityFiles, certPem: Buffer, keyPem: Buffer, trustBundlePem: Buffer, now: Date): WorkloadIdentity {
  let chain: X509Certificate[];
  let roots: X509Certificate[];
  try {
    chain = pemCertificates(certPem.toString('utf8'));
  } catch (err) {
    throw new IdentityError(`${files.certFile}: not a PEM certificate (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    roots = pemCertificates(trustBundlePem.toString('utf8'));
  } catch (err) {
    throw new IdentityError(`${files.trustBundleFile}: not a PEM certificate bundle (${err instanceof Error ? err.message : String(err)})`);
  }
  const leaf = chain[0];
  if (leaf === undefined) throw new IdentityError(`${files.certFile}: no "BEGIN CERTIFICATE" block`);
  if (roots.length === 0) throw new IdentityError(`${files.trustBundleFile}: no "BEGIN CERTIFICATE" block`);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new IdentityError(`${files.keyFile}: not a PEM private key (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!leaf.checkPrivateKey(key)) throw new IdentityError(`${files.keyFile} does not belong to the certificate in ${files.certFile}`);
  const id = spiffeIdOfSan(leaf.subjectAltName);
  if (id === undefined) throw new IdentityError(`${files.certFile}: the certificate needs exactly one URI SAN holding a SPIFFE ID (has: ${leaf.subjectAltName ?? 'no SAN'})`);
  if (id.trustDomain !== files.trustDomain) throw new IdentityError(`${files.certFile}: identity ${id.uri} is not in trust domain "${files.trustDomain}" (set --trust-domain ${id.trustDomain} if that is the mesh's)`);
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (now < notBefore) throw new IdentityError(`${files.certFile}: not valid before ${notBefore.toISOString()}`);
  if (now > notAfter) throw new IdentityError(`${files.certFile}: expired at ${notAfter.toISOString()}`);
  if (!chainsTo(chain, roots)) throw new IdentityError(`${files.certFile} is not signed by a certificate in ${files.trustBundleFile} (peers would refuse it)`);
  return { id, certPem, keyPem, trustBundlePem, notBefore, notAfter, fingerprint: leaf.fingerprint256 };
}

/** The leaf, through the intermediates given with it, is signed by one of the roots. */
function chainsTo(chain: ReadonlyArray<X509Certificate>, roots: ReadonlyArray<X509Certificate>): boolean {
  let current = chain[0];
  for (let i = 0; current !== undefined && i <= chain.length; i++) {
    for (const root of roots) if (current.checkIssued(root) && current.verify(root.publicKey)) return true;
    const next: X509Certificate | undefined = chain.slice(1).find((c) => current !== undefined && current.checkIssued(c) && current.verify(c.publicKey));
    current = next;
  }
  return false;
}
