// Compiles one HTTPRouteMatch (path, headers, query params, method — all AND-ed) into the predicate
// the proxy runs per request, doing the cheapest checks first and nothing for absent conditions.
import type { HTTPRouteMatch } from '../../config/model/http-route.js';
import type { FieldPath } from '../../config/resource.js';
import type { RequestView } from '../request-view.js';
import { headersMatch, compileHeaderMatches, type ValueCondition } from './header.js';
import { compilePathMatch, PathKind, type CompiledPath } from './path.js';
import { compileQueryParamMatches, queryParamsMatch } from './query.js';

export interface CompiledHttpMatch {
  /** The method condition, if any (routing tables may index on it). */
  readonly method: string | undefined;
  test(req: RequestView): boolean;
}

export type HttpMatchCompileResult =
  | { ok: true; match: CompiledHttpMatch }
  | { ok: false; path: FieldPath; message: string };

/** The match of `matches: [{}]` / no matches: "a prefix path match on "/", which has the effect of
 *  matching every HTTP request". Its test reads nothing from the request. */
export const MATCH_EVERYTHING: CompiledHttpMatch = Object.freeze({
  method: undefined,
  test: (_req: RequestView): boolean => true,
});

/**
 * One class for every non-trivial match keeps the per-request call site monomorphic. Absent conditions
 * are `undefined` fields, so a path-only match costs a method check on `undefined` plus the path test.
 * Order: method (one string compare), path, headers, then query params (parsing the query is the only
 * per-request work that allocates, so it runs last and only when everything else matched).
 */
class HttpMatch implements CompiledHttpMatch {
  constructor(
    readonly method: string | undefined,
    /** Read by route indexes (indexableConditions), as are headers; undefined: any path. */
    readonly path: CompiledPath | undefined,
    readonly headers: readonly ValueCondition[] | undefined,
    private readonly query: readonly ValueCondition[] | undefined,
  ) {}

  test(req: RequestView): boolean {
    if (this.method !== undefined && req.method !== this.method) return false;
    if (this.path !== undefined && !this.path.test(req.path)) return false;
    if (this.headers !== undefined && !headersMatch(this.headers, req)) return false;
    return this.query === undefined || queryParamsMatch(this.query, req);
  }
}

/**
 * Conditions every request a match accepts must meet, for route indexes: an Exact or PathPrefix path (not
 * any path, not a RegularExpression), the method, the Exact header conditions (lower-case names).
 */
export interface IndexableConditions {
  readonly path: CompiledPath | undefined;
  readonly method: string | undefined;
  readonly exactHeaders: readonly ValueCondition[];
}

const NO_CONDITIONS: IndexableConditions = Object.freeze({ path: undefined, method: undefined, exactHeaders: [] });

/** Undefined for a matcher not compiled here (such as VirtualService's): its conditions are opaque. */
export function indexableConditions(m: CompiledHttpMatch): IndexableConditions | undefined {
  if (m === MATCH_EVERYTHING) return NO_CONDITIONS;
  if (!(m instanceof HttpMatch)) return undefined;
  const p = m.path;
  return {
    path: p !== undefined && (p.kind === PathKind.Exact || p.kind === PathKind.Prefix) ? p : undefined,
    method: m.method,
    exactHeaders: (m.headers ?? []).filter((h) => h.exact !== undefined),
  };
}

/**
 * "Multiple match types are ANDed together, i.e. the match will evaluate to true only if all conditions
 * are satisfied." Error paths are relative to the match object, e.g. `['headers', 1, 'value']`.
 */
export function compileHttpRouteMatch(m: HTTPRouteMatch): HttpMatchCompileResult {
  const p = compilePathMatch(m.path);
  if (!p.ok) return { ok: false, path: ['path', 'value'], message: p.message };
  const h = compileHeaderMatches(m.headers);
  if (!h.ok) return h;
  const q = compileQueryParamMatches(m.queryParams);
  if (!q.ok) return q;

  const path = p.path.kind === PathKind.Any ? undefined : p.path;
  const headers = h.conditions.length === 0 ? undefined : h.conditions;
  const query = q.conditions.length === 0 ? undefined : q.conditions;
  // Method: "When specified, this route will be matched only if the request has the specified method."
  const method = m.method;
  if (method === undefined && path === undefined && headers === undefined && query === undefined) {
    return { ok: true, match: MATCH_EVERYTHING };
  }
  return { ok: true, match: new HttpMatch(method, path, headers, query) };
}
