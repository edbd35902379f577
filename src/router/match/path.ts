// HTTPRoute path matching (Exact, PathPrefix, RegularExpression): validation at config time and a
// single monomorphic test for the request path.
import type { PathMatch } from '../../config/model/http-route.js';
import { compileFullMatchRegex } from './regex.js';

/** Which comparison a CompiledPath performs; `Any` is PathPrefix "/" (matches every path). */
export const PathKind = { Any: 0, Exact: 1, Prefix: 2, Regex: 3 } as const;
export type PathKind = (typeof PathKind)[keyof typeof PathKind];

export class CompiledPath {
  constructor(
    readonly kind: PathKind,
    /** Exact: the path; Prefix: the prefix without its trailing `/`; otherwise ''. */
    readonly value: string,
    readonly regex: RegExp | undefined,
  ) {}

  test(path: string): boolean {
    switch (this.kind) {
      case PathKind.Any:
        return true;
      case PathKind.Exact:
        // "Matches the URL path exactly and with case sensitivity. This means that an exact path match
        // on `/abc` will only match requests to `/abc`, NOT `/abc/`, `/Abc`, or `/abcd`."
        return path === this.value;
      case PathKind.Prefix: {
        // "Matching is case-sensitive and done on a path element by element basis ... the paths `/abc`,
        // `/abc/`, and `/abc/def` would all match the prefix `/abc`, but the path `/abcd` would not."
        // The stored prefix has no trailing `/`, so the next request character must end the element.
        const n = this.value.length;
        return path.startsWith(this.value) && (path.length === n || path.charCodeAt(n) === 0x2f);
      }
      default:
        return this.regex !== undefined && this.regex.test(path);
    }
  }
}

export const MATCH_ANY_PATH = new CompiledPath(PathKind.Any, '', undefined);

export type PathCompileResult = { ok: true; path: CompiledPath } | { ok: false; message: string };

export function compilePathMatch(m: PathMatch): PathCompileResult {
  if (m.type === 'RegularExpression') {
    const r = compileFullMatchRegex(m.value);
    return r.ok ? { ok: true, path: new CompiledPath(PathKind.Regex, '', r.regex) } : r;
  }
  const invalid = validatePathValue(m.value);
  if (invalid !== undefined) return { ok: false, message: invalid };
  if (m.type === 'Exact') return { ok: true, path: new CompiledPath(PathKind.Exact, m.value, undefined) };
  // "When specified, a trailing `/` is ignored." `//` is rejected, so at most one trailing `/` exists.
  const prefix = m.value.endsWith('/') ? m.value.slice(0, -1) : m.value;
  return { ok: true, path: prefix === '' ? MATCH_ANY_PATH : new CompiledPath(PathKind.Prefix, prefix, undefined) };
}

// The HTTPPathMatch CEL rule: "must only contain valid characters (matching
// ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']".
const VALID_PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$/;

/**
 * The Gateway API CEL validations of HTTPPathMatch for Exact and PathPrefix values (they would reject
 * the resource at admission; files and other sources bypass admission, so they are checked here).
 * Returns an error message, or undefined when the value is valid.
 */
export function validatePathValue(value: string): string | undefined {
  if (!value.startsWith('/')) return 'path value must be an absolute path starting with "/"';
  for (const bad of ['//', '/./', '/../', '%2f', '%2F', '#']) {
    if (value.includes(bad)) return `path value must not contain "${bad}"`;
  }
  for (const bad of ['/..', '/.']) {
    if (value.endsWith(bad)) return `path value must not end with "${bad}"`;
  }
  if (!VALID_PATH_CHARS.test(value)) {
    return "path value may only contain the characters A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @ / and %XX escapes";
  }
  return undefined;
}
