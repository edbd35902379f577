// Test PKI for HBONE: a dev CA in a temp dir and SPIFFE certificates from it (or from a second, untrusted CA),
// written to files so the waypoint reads them exactly as it would in production.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRootCa, issueSvid, type PemPair } from '../../src/security/certs/dev-ca.js';

export interface Svid extends PemPair {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TestPki {
  readonly dir: string;
  readonly ca: PemPair;
  readonly bundleFile: string;
  issue(spiffe: string, options?: { notBefore?: Date; notAfter?: Date; name?: string }): Promise<Svid>;
  /** A certificate from a CA nobody trusts. */
  untrusted(spiffe: string): Promise<Svid>;
  close(): Promise<void>;
}

let counter = 0;

export async function createPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-pki-'));
  const ca = await createRootCa('test mesh');
  const bundleFile = path.join(dir, 'ca-cert.pem');
  await writeFile(bundleFile, ca.certPem);
  const write = async (pair: PemPair, name: string): Promise<Svid> => {
    const certFile = path.join(dir, `${name}-cert.pem`);
    const keyFile = path.join(dir, `${name}-key.pem`);
    await writeFile(certFile, pair.certPem);
    await writeFile(keyFile, pair.keyPem);
    return { ...pair, certFile, keyFile };
  };
  let other: PemPair | undefined;
  return {
    dir,
    ca,
    bundleFile,
    async issue(spiffe, options = {}) {
      const svid = await issueSvid(ca, { spiffe, ...(options.notBefore ? { notBefore: options.notBefore } : {}), ...(options.notAfter ? { notAfter: options.notAfter } : {}) });
      return write(svid, options.name ?? `svid-${++counter}`);
    },
    async untrusted(spiffe) {
      other ??= await createRootCa('rogue');
      return write(await issueSvid(other, { spiffe }), `rogue-${++counter}`);
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
