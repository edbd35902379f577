// `waypoint ca init` and `waypoint ca issue`: a development CA for laptops and tests, writing PEM files
// the waypoint (--cert/--key/--trust-bundle) and `waypoint request` read.
import path from 'node:path';
import { CA_CERT_FILE, DEFAULT_CERT_TTL_MS, DevCaError, initCaDir, issueToFiles } from '../security/certs/dev-ca.js';

export async function caInitCommand(options: { dir: string; force: boolean }, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  try {
    const files = await initCaDir(options.dir, options.force);
    out(`CA certificate (the trust bundle): ${files.certFile}\nCA key (keep private):             ${files.keyFile}\n`);
    return 0;
  } catch (e) {
    err(`${e instanceof DevCaError ? e.message : String(e)}\n`);
    return 1;
  }
}

export async function caIssueCommand(options: { dir: string; spiffe: string; out: string; ttlMs: number | undefined }, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  try {
    const now = Date.now();
    const ttl = options.ttlMs ?? DEFAULT_CERT_TTL_MS;
    const files = await issueToFiles(options.dir, options.out, { spiffe: options.spiffe, notAfter: new Date(now + ttl) });
    out(`${options.spiffe}, valid until ${new Date(now + ttl).toISOString()}\ncertificate: ${files.certFile}\nkey:         ${files.keyFile}\ntrust bundle: ${path.join(options.dir, CA_CERT_FILE)}\n`);
    return 0;
  } catch (e) {
    err(`${e instanceof DevCaError ? e.message : String(e)}\n`);
    return 1;
  }
}
