// Finds one file in a tar archive (optionally gzip-compressed): how a Docker-image Wasm plugin carries `plugin.wasm`.
import { gunzipSync } from 'node:zlib';
import { ModuleFetchError } from './module-request.js';

const BLOCK = 512;

/** The contents of the first regular file whose base name is `name`, or undefined when there is none. */
export function extractFromTar(archive: Uint8Array, name: string, maxBytes: number): Uint8Array | undefined {
  let data = archive;
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      data = new Uint8Array(gunzipSync(data, { maxOutputLength: maxBytes * 2 + 1024 * 1024 }));
    } catch (err) {
      throw new ModuleFetchError(`the image layer is not a valid gzip stream: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= data.length) {
    const header = data.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return undefined;
    const size = parseOctal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] ?? 0);
    const magic = text(header.subarray(257, 263));
    const prefix = magic.startsWith('ustar') ? text(header.subarray(345, 500)) : '';
    let path = longName ?? (prefix === '' ? text(header.subarray(0, 100)) : `${prefix}/${text(header.subarray(0, 100))}`);
    longName = undefined;
    const start = offset + BLOCK;
    if (start + size > data.length) throw new ModuleFetchError('the image layer is a truncated tar archive');
    const body = data.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') { // GNU long name for the next entry
      longName = text(body);
      continue;
    }
    if (type === 'x') { // PAX extended header: `len path=value\n`
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(Buffer.from(body).toString('utf8'));
      if (m?.[1] !== undefined) longName = m[1];
      continue;
    }
    if (type !== '0' && type !== '\0') continue;
    path = path.replace(/^\.\//, '');
    if (path.split('/').pop() === name) {
      if (size > maxBytes) throw new ModuleFetchError(`${path} is ${size} bytes, over the ${maxBytes}-byte limit for a Wasm module`);
      return new Uint8Array(body);
    }
  }
  return undefined;
}

function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

function parseOctal(bytes: Uint8Array): number {
  const s = text(bytes).trim();
  if (s === '') return 0;
  const n = Number.parseInt(s, 8);
  if (!Number.isFinite(n) || n < 0) throw new ModuleFetchError('the image layer has a malformed tar header');
  return n;
}
