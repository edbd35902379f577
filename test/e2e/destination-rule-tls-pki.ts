// Certificates for the DestinationRule TLS origination tests: throwaway CAs (the project's dev CA code) and leaf
// certificates with DNS and IP SANs, written as PEM files the rules can name.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRootCa, type PemPair } from '../../src/security/certs/dev-ca.js';
import { webcrypto, x509 } from '../../src/security/certs/x509.js';

type CryptoKeyPair = import('node:crypto').webcrypto.CryptoKeyPair;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export { createRootCa, type PemPair };

/** A leaf certificate for server and client auth, signed by `ca`, with the given DNS and IP SANs. */
export async function issueLeaf(ca: PemPair, sans: { dns?: string[]; ip?: string[] }): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const b64 = ca.keyPem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  const caKey = await webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, false, ['sign']);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0' + Math.floor(Math.random() * 1e12).toString(16),
    subject: `CN=${sans.dns?.[0] ?? sans.ip?.[0] ?? 'leaf'}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        ...(sans.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(sans.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
      ]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`;
  return { certPem: `${cert.toString('pem')}\n`, keyPem };
}

/** Writes `files` (name → contents) into `dir`; returns name → absolute path. */
export async function writePems(dir: string, files: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, pem] of Object.entries(files)) {
    out[name] = path.join(dir, name);
    await writeFile(out[name], pem);
  }
  return out;
}
