// HTTPRoute header matching: validates and compiles `matches[].headers` into one AND-ed test. Also holds
// the name/value condition shape that query.ts reuses for query parameters.
import type { FieldPath } from '../../config/resource.js';
import type { HeaderMatch } from '../../config/model/http-route.js';
import type { RequestView } from '../request-view.js';
import { compileFullMatchRegex } from './regex.js';

/** One name/value condition: exactly one of `exact` and `regex` is set. */
export interface ValueCondition {
  readonly name: string;
  readonly exact: string | undefined;
  readonly regex: RegExp | undefined;
}

export type ConditionsCompileResult =
  | { ok: true; conditions: ValueCondition[] }
  | { ok: false; path: FieldPath; message: string };

/** Compiles one condition's value; `type` is Exact or RegularExpression (both Header and QueryParam). */
export function compileValueCondition(
  name: string,
  type: 'Exact' | 'RegularExpression',
  value: string,
): { ok: true; condition: ValueCondition } | { ok: false; message: string } {
  if (type === 'Exact') return { ok: true, condition: { name, exact: value, regex: undefined } };
  const r = compileFullMatchRegex(value);
  return r.ok ? { ok: true, condition: { name, exact: undefined, regex: r.regex } } : r;
}

/** Exact conditions first: a string comparison is cheaper than a regex and the AND is order-free. */
export function cheapestFirst(conditions: ValueCondition[]): ValueCondition[] {
  return [...conditions.filter((c) => c.regex === undefined), ...conditions.filter((c) => c.regex !== undefined)];
}

// RFC 9110 §5.1 field-name = token. HTTPHeaderName: "":method" - ":" is an invalid character. This means
// that HTTP/2 pseudo headers are not currently supported by this type."
const TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/**
 * Paths in errors are relative to the match object (`['headers', i, 'name' | 'value']`).
 * "If multiple entries specify equivalent header names, only the first entry with an equivalent name
 * MUST be considered for a match. Subsequent entries with an equivalent header name MUST be ignored.
 * Due to the case-insensitivity of header names, "foo" and "Foo" are considered equivalent."
 */
export function compileHeaderMatches(headers: readonly HeaderMatch[]): ConditionsCompileResult {
  const seen = new Set<string>();
  const conditions: ValueCondition[] = [];
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (h.name.startsWith(':')) {
      const message = `pseudo-header "${h.name}" cannot be matched; use a regular header name`;
      return { ok: false, path: ['headers', i, 'name'], message };
    }
    if (!TOKEN.test(h.name)) {
      return { ok: false, path: ['headers', i, 'name'], message: `"${h.name}" is not a valid HTTP header name` };
    }
    // "Name matching MUST be case-insensitive"; RequestView expects the lower-case name Node delivers.
    const lower = h.name.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    const c = compileValueCondition(lower, h.type, h.value);
    if (!c.ok) return { ok: false, path: ['headers', i, 'value'], message: c.message };
    conditions.push(c.condition);
  }
  return { ok: true, conditions: cheapestFirst(conditions) };
}

/**
 * All conditions must hold. A header absent from the request never matches, whatever the value
 * (an Exact "" or a regex accepting ""). Values are case-sensitive.
 */
export function headersMatch(conditions: readonly ValueCondition[], req: RequestView): boolean {
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i]!;
    const v = req.header(c.name);
    if (v === undefined) return false;
    if (c.regex === undefined ? v !== c.exact : !c.regex.test(v)) return false;
  }
  return true;
}
