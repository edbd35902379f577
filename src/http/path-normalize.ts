// Request path normalization, as Istio configures Envoy from MeshConfig `pathNormalization`
// (istio.io/latest/docs/reference/config/security/normalization): applied before routing and
// authorization, and the normalized path is what goes upstream. The query is kept as received.
//   NONE                      nothing
//   BASE (default, DEFAULT)   RFC 3986 normalization: decode %-encoded unreserved characters once
//                             (ALPHA, DIGIT, "-", ".", "_", "~"), "\" → "/", resolve "." and ".." segments;
//                             a path with an encoded NUL (%00) is rejected with 400
//   MERGE_SLASHES             BASE, then "//" → "/"
//   DECODE_AND_MERGE_SLASHES  "%2F" → "/" and "%5C" → "\" first, then MERGE_SLASHES

export type PathNormalization = 'DEFAULT' | 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

/** The normalized request target (path plus the original `?query`), or undefined when it must be rejected (400). */
export function normalizePath(target: string, mode: PathNormalization = 'BASE'): string | undefined {
  if (mode === 'NONE') return target;
  let end = target.length;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x3f /* ? */ || c === 0x23 /* # */) {
      end = i;
      break;
    }
  }
  const rawPath = end === target.length ? target : target.slice(0, end);
  // Envoy strips the fragment; the query goes upstream unchanged.
  const query = end < target.length && target.charCodeAt(end) === 0x3f ? stripFragment(target.slice(end)) : '';
  if (isAlreadyNormal(rawPath) && mode !== 'DECODE_AND_MERGE_SLASHES' && mode !== 'MERGE_SLASHES') return end === target.length ? target : rawPath + query;
  let path = rawPath;
  if (mode === 'DECODE_AND_MERGE_SLASHES') path = path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
  const decoded = decodeUnreserved(path);
  if (decoded === undefined) return undefined;
  path = removeDotSegments(decoded.replaceAll('\\', '/'));
  if (mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES') path = path.replace(/\/{2,}/g, '/');
  return path + query;
}

function stripFragment(q: string): string {
  const hash = q.indexOf('#');
  return hash < 0 ? q : q.slice(0, hash);
}

/** Fast path: no `%`, `\` or dot segment, so BASE would return the path unchanged. */
function isAlreadyNormal(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x25 /* % */ || c === 0x5c /* \ */) return false;
    if (c === 0x2e /* . */ && path.charCodeAt(i - 1) === 0x2f) {
      const n = path.charCodeAt(i + 1);
      if (Number.isNaN(n) || n === 0x2f || (n === 0x2e && (Number.isNaN(path.charCodeAt(i + 2)) || path.charCodeAt(i + 2) === 0x2f))) return false;
    }
  }
  return path.length > 0 && path.charCodeAt(0) === 0x2f;
}

function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Decodes %XX of unreserved characters; other escapes are kept as written. `%00` rejects the path. */
function decodeUnreserved(path: string): string | undefined {
  if (!path.includes('%')) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i] as string;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) {
      out += ch;
      continue;
    }
    const code = hi * 16 + lo;
    if (code === 0) return undefined;
    if (isUnreserved(code)) out += String.fromCharCode(code);
    else out += path.slice(i, i + 3);
    i += 2;
  }
  return out;
}

/** RFC 3986 §5.2.4 remove_dot_segments, for an absolute path (a relative one is made absolute first). */
function removeDotSegments(path: string): string {
  const input = path.startsWith('/') ? path : `/${path}`;
  const segments = input.split('/');
  const out: string[] = [];
  // segments[0] is '' (before the leading slash).
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] as string;
    const last = i === segments.length - 1;
    if (seg === '.') {
      if (last) out.push('');
      continue;
    }
    if (seg === '..') {
      out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(seg);
  }
  return `/${out.join('/')}`;
}
