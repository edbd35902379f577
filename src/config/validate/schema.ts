// Runs a zod schema over one part of a raw resource and turns every issue into a Diagnostic
// with the resource, field path and line.
import type { z } from 'zod';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { FieldPath, RawResource } from '../resource.js';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

export function parseField<S extends z.ZodType>(
  res: RawResource,
  schema: S,
  at: FieldPath,
  value: unknown,
  out: Diagnostic[],
): Parsed<z.output<S>> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  for (const issue of result.error.issues) {
    const path = [...at, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
    out.push(resourceDiagnostic(res, 'error', codeOf(issue.code), path, describe(issue)));
  }
  return { ok: false };
}

function codeOf(code: string): string {
  return code === 'unrecognized_keys' ? 'unknown-field' : 'invalid-field';
}

/** Zod's messages, reworded where they do not say what would be right. */
function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling against the API reference`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `required field is missing (expected ${issue.expected})`;
  if (issue.code === 'invalid_value') {
    const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
    return `invalid value ${JSON.stringify(issue.input)}: must be one of ${options}`;
  }
  return issue.message;
}
