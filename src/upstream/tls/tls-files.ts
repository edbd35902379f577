// The PEM files DestinationRule `tls` names (clientCertificate, privateKey, caCertificates, caCrl), read before
// each compile so compile stays pure: compile gets their contents in a map keyed by path. A file that was read
// once and becomes unreadable keeps its last contents (as Envoy keeps a loaded secret), reported as stale.
import { readFile } from 'node:fs/promises';
import type { RawResource } from '../../config/resource.js';

export type TlsFile =
  | { readonly kind: 'ok'; readonly pem: string }
  | { readonly kind: 'stale'; readonly pem: string; readonly error: string }
  | { readonly kind: 'unreadable'; readonly error: string };

/** Contents of every TLS file the DestinationRules name, by path as written in the rule. */
export type TlsFiles = ReadonlyMap<string, TlsFile>;

export const TLS_FILE_FIELDS = ['clientCertificate', 'privateKey', 'caCertificates', 'caCrl'] as const;

/** Files larger than this are not certificates: refused rather than read whole. */
const MAX_FILE_BYTES = 1024 * 1024;

export class TlsFileReader {
  readonly #last = new Map<string, string>();

  /** Reads every file the DestinationRules among `resources` name. */
  async read(resources: ReadonlyArray<RawResource>): Promise<TlsFiles> {
    const out = new Map<string, TlsFile>();
    await Promise.all(tlsFilePaths(resources).map(async (p) => {
      const result = await readPem(p);
      if (result.kind === 'ok') {
        this.#last.set(p, result.pem);
        out.set(p, result);
        return;
      }
      const last = this.#last.get(p);
      out.set(p, last === undefined ? result : { kind: 'stale', pem: last, error: result.error });
    }));
    return out;
  }
}

/** One read, without memory of earlier ones (`waypoint validate`). */
export function readTlsFiles(resources: ReadonlyArray<RawResource>): Promise<TlsFiles> {
  return new TlsFileReader().read(resources);
}

async function readPem(p: string): Promise<TlsFile> {
  try {
    const buf = await readFile(p);
    if (buf.length > MAX_FILE_BYTES) return { kind: 'unreadable', error: `larger than ${MAX_FILE_BYTES} bytes` };
    return { kind: 'ok', pem: buf.toString('utf8') };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { kind: 'unreadable', error: code === 'ENOENT' ? 'no such file' : typeof code === 'string' ? code : String(err) };
  }
}

/** Paths named by `tls` blocks (top level and portLevelSettings) of every DestinationRule, deduplicated. */
export function tlsFilePaths(resources: ReadonlyArray<RawResource>): string[] {
  const paths = new Set<string>();
  for (const r of resources) {
    if (r.kind !== 'DestinationRule') continue;
    const tp = field(r.object['spec'], 'trafficPolicy');
    const blocks = [field(tp, 'tls')];
    const ports = field(tp, 'portLevelSettings');
    if (Array.isArray(ports)) for (const p of ports) blocks.push(field(p, 'tls'));
    for (const b of blocks) {
      for (const f of TLS_FILE_FIELDS) {
        const v = field(b, f);
        if (typeof v === 'string' && v !== '') paths.add(v);
      }
    }
  }
  return [...paths];
}

function field(o: unknown, name: string): unknown {
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>)[name] : undefined;
}
