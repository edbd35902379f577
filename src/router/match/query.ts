// HTTPRoute query parameter matching: validates and compiles `matches[].queryParams` into one AND-ed
// test over RequestView's lazily decoded query (first value of each name).
import type { QueryParamMatch } from '../../config/model/http-route.js';
import type { RequestView } from '../request-view.js';
import { cheapestFirst, compileValueCondition, type ConditionsCompileResult, type ValueCondition } from './header.js';

/**
 * Paths in errors are relative to the match object (`['queryParams', i, 'value']`).
 * "Name is the name of the HTTP query param to be matched. This must be an exact string match."
 * "If multiple entries specify equivalent query param names, only the first entry with an equivalent
 * name MUST be considered for a match. Subsequent entries with an equivalent query param name MUST be
 * ignored."
 */
export function compileQueryParamMatches(params: readonly QueryParamMatch[]): ConditionsCompileResult {
  const seen = new Set<string>();
  const conditions: ValueCondition[] = [];
  for (let i = 0; i < params.length; i++) {
    const q = params[i]!;
    if (q.name === '') return { ok: false, path: ['queryParams', i, 'name'], message: 'query parameter name must not be empty' };
    if (seen.has(q.name)) continue;
    seen.add(q.name);
    const c = compileValueCondition(q.name, q.type, q.value);
    if (!c.ok) return { ok: false, path: ['queryParams', i, 'value'], message: c.message };
    conditions.push(c.condition);
  }
  return { ok: true, conditions: cheapestFirst(conditions) };
}

/**
 * All conditions must hold, each against the first value of the parameter ("it is *recommended* that
 * implementations should match against the first value of the param"). An absent parameter never
 * matches; `?flag` (no `=`) has the value "".
 */
export function queryParamsMatch(conditions: readonly ValueCondition[], req: RequestView): boolean {
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i]!;
    const v = req.queryParam(c.name);
    if (v === undefined) return false;
    if (c.regex === undefined ? v !== c.exact : !c.regex.test(v)) return false;
  }
  return true;
}
