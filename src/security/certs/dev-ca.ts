// A development CA for laptops and tests: a self-signed root and SPIFFE X509-SVIDs it signs
// (ECDSA P-256, exactly one URI SAN, client and server auth), written as PEM files.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseSpiffeId } from './spiffe-id.js';
import { webcrypto, x509 } from './x509.js';

type CryptoKey = import('node:crypto').webcrypto.CryptoKey;
type CryptoKeyPair = import('node:crypto').webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const CA_CERT_FILE = 'ca-cert.pem';
export const CA_KEY_FILE = 'ca-key.pem';
/** Istio's self-signed root lives 10 years; its workload certificates 24 hours (DEFAULT_WORKLOAD_CERT_TTL). */
export const CA_TTL_MS = 10 * 365 * 24 * 3600_000;
export const DEFAULT_CERT_TTL_MS = 24 * 3600_000;
/** Certificates start a little in the past so small clock differences between peers do not reject them. */
const BACKDATE_MS = 5 * 60_000;

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssueOptions {
  readonly spiffe: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export class DevCaError extends Error {}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}-----END PRIVATE KEY-----\n`;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive, as RFC 5280 requires
  return bytes.toString('hex');
}

/** A new self-signed root CA. */
export async function createRootCa(organization = 'waypoint dev CA', now = new Date()): Promise<PemPair> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `O=${organization}, CN=${organization} root`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_TTL_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
}

/** Signs a workload certificate for `options.spiffe` with the CA in `ca`. */
export async function issueSvid(ca: PemPair, options: IssueOptions, now = new Date()): Promise<PemPair> {
  const id = parseSpiffeId(options.spiffe);
  if (id === undefined) throw new DevCaError(`"${options.spiffe}" is not a SPIFFE ID (expected spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/SERVICE-ACCOUNT)`);
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKey(ca.keyPem);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = options.notBefore ?? new Date(now.getTime() - BACKDATE_MS);
  const notAfter = options.notAfter ?? new Date(now.getTime() + DEFAULT_CERT_TTL_MS);
  if (notAfter <= notBefore) throw new DevCaError('the certificate would expire before it becomes valid');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    // Istio's workload certificates have an empty subject; the identity is the (critical) URI SAN.
    subject: '',
    issuer: caCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: id.uri }], true),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
}

async function importKey(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  if (b64 === '') throw new DevCaError('the CA key file holds no PKCS#8 "PRIVATE KEY" block');
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, false, ['sign']);
}

/** `waypoint ca init --dir DIR`: writes ca-cert.pem and ca-key.pem (0600); refuses to overwrite a CA. */
export async function initCaDir(dir: string, force: boolean): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, CA_CERT_FILE);
  const keyFile = path.join(dir, CA_KEY_FILE);
  if (!force && (await exists(certFile) || await exists(keyFile))) {
    throw new DevCaError(`${dir} already holds a CA (${CA_CERT_FILE} / ${CA_KEY_FILE}); pass --force to replace it (certificates it issued stop being trusted)`);
  }
  await mkdir(dir, { recursive: true });
  const ca = await createRootCa();
  await writeFile(keyFile, ca.keyPem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await writeFile(certFile, ca.certPem);
  return { certFile, keyFile };
}

/** `waypoint ca issue`: writes PREFIX-cert.pem and PREFIX-key.pem (0600) signed by the CA in `dir`. */
export async function issueToFiles(dir: string, out: string, options: IssueOptions): Promise<{ certFile: string; keyFile: string }> {
  const ca = await readCa(dir);
  const svid = await issueSvid(ca, options);
  const certFile = `${out}-cert.pem`;
  const keyFile = `${out}-key.pem`;
  await mkdir(path.dirname(path.resolve(certFile)), { recursive: true });
  await writeFile(keyFile, svid.keyPem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await writeFile(certFile, svid.certPem);
  return { certFile, keyFile };
}

export async function readCa(dir: string): Promise<PemPair> {
  try {
    return { certPem: await readFile(path.join(dir, CA_CERT_FILE), 'utf8'), keyPem: await readFile(path.join(dir, CA_KEY_FILE), 'utf8') };
  } catch (err) {
    throw new DevCaError(`cannot read the CA in ${dir}: ${err instanceof Error ? err.message : String(err)} (create one with: waypoint ca init --dir ${dir})`);
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

/** A CA in `dir` and one certificate per `name → SPIFFE ID` (DIR/NAME-cert.pem, DIR/NAME-key.pem): the demo's PKI. */
export async function createDevPki(dir: string, identities: Readonly<Record<string, string>>): Promise<{ trustBundle: string; files: Record<string, { certFile: string; keyFile: string }> }> {
  const { certFile } = await initCaDir(dir, true);
  const files: Record<string, { certFile: string; keyFile: string }> = {};
  for (const [name, spiffe] of Object.entries(identities)) files[name] = await issueToFiles(dir, path.join(dir, name), { spiffe });
  return { trustBundle: certFile, files };
}
