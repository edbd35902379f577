// HTTPPathModifier: ReplaceFullPath and ReplacePrefixMatch, shared by URLRewrite and RequestRedirect.
// The query string is kept; only the path part is replaced (as Envoy's path rewrites and redirects do).

export class PathModifier {
  /**
   * @param kind     which modifier
   * @param value    ReplaceFullPath: the new path; ReplacePrefixMatch: the replacement, trailing `/` removed
   * @param prefix   ReplacePrefixMatch: the rule's PathPrefix match without its trailing `/` ('' for `/`)
   */
  private constructor(
    readonly kind: 'ReplaceFullPath' | 'ReplacePrefixMatch',
    readonly value: string,
    readonly prefix: string,
  ) {}

  static fullPath(path: string): PathModifier {
    return new PathModifier('ReplaceFullPath', path, '');
  }

  /** `matchedPrefix` is the value of the rule's only match, a PathPrefix (validated at compile time). */
  static prefixMatch(replacement: string, matchedPrefix: string): PathModifier {
    return new PathModifier('ReplacePrefixMatch', stripTrailingSlash(replacement), stripTrailingSlash(matchedPrefix));
  }

  /** Applies the modifier to a request target (`/path?query`). */
  apply(target: string): string {
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const query = q === -1 ? '' : target.slice(q);
    return this.#path(path) + query;
  }

  #path(path: string): string {
    if (this.kind === 'ReplaceFullPath') return this.value;
    // Element-wise, like the PathPrefix match: `/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`.
    const p = this.prefix;
    if (!(path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 0x2f))) return path;
    // The spec's table (prefix /foo): /foo/bar → /xyz/bar with /xyz or /xyz/; /foo → /xyz; /foo/ → /xyz/;
    // with '' or '/': /foo/bar → /bar, /foo → /, /foo/ → /. Joining the slash-less replacement with the
    // rest (which is '' or starts with '/') gives exactly that.
    const out = this.value + path.slice(p.length);
    return out === '' ? '/' : out.charCodeAt(0) === 0x2f ? out : `/${out}`;
  }
}

function stripTrailingSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}
