// VirtualService `rewrite` (Envoy's prefix_rewrite / regex_rewrite and host rewrite, as Istio sets them):
// `uri` replaces the part of the path the route's match matched (the prefix of a prefix match, the whole path
// for exact and regex matches, `/` for a route without a URI match); `uriRegexRewrite` substitutes every match
// of an RE2 regex in the path; `authority` replaces the Host. The query is never touched.
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpFilter } from '../types.js';

export type PathRewrite =
  /** Replace the first `length` characters (the matched prefix) with `replacement`. */
  | { readonly kind: 'prefix'; readonly length: number; readonly replacement: string }
  | { readonly kind: 'full'; readonly replacement: string }
  /** `regex` has the `g` flag; `substitution` is in JS replace syntax (`$1`). */
  | { readonly kind: 'regex'; readonly regex: RegExp; readonly substitution: string };

export class VirtualServiceRewriteFilter implements HttpFilter {
  readonly name = 'route.rewrite';
  readonly #authority: string | undefined;
  readonly #path: PathRewrite | undefined;

  constructor(authority: string | undefined, path: PathRewrite | undefined) {
    this.#authority = authority;
    this.#path = path;
  }

  onRequestHeaders(ex: HttpExchange): undefined {
    if (this.#authority !== undefined) ex.requestHeaders.set('host', this.#authority);
    const rule = this.#path;
    if (rule === undefined) return undefined;
    const original = ex.path;
    const q = original.indexOf('?');
    const path = q === -1 ? original : original.slice(0, q);
    const rewritten = rewritePath(rule, path) + (q === -1 ? '' : original.slice(q));
    if (rewritten !== original) {
      // As Envoy: the path the client asked for goes upstream in x-envoy-original-path (and to the access log).
      ex.requestHeaders.set('x-envoy-original-path', original);
      ex.path = rewritten;
    }
    return undefined;
  }
}

export function rewritePath(rule: PathRewrite, path: string): string {
  switch (rule.kind) {
    case 'full':
      return rule.replacement;
    case 'prefix':
      return rule.replacement + path.slice(rule.length);
    default:
      rule.regex.lastIndex = 0;
      return path.replace(rule.regex, rule.substitution);
  }
}

/** RE2/Envoy substitution (`\1` for a group) in JS replace syntax (`$1`; a literal `$` becomes `$$`). */
export function jsSubstitution(envoy: string): string {
  return envoy.replaceAll('$', '$$$$').replace(/\\(\d)/g, '$$$1');
}
