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
  // reportInput: zod 4 only attaches the offending value to an issue when asked.
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  for (const issue of result.error.issues) {
    const path = [...at, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
    if (issue.code === 'unrecognized_keys') {
      // One diagnostic per unknown key, pointing at the key itself (path and line).
      for (const key of issue.keys) out.push(resourceDiagnostic(res, 'error', 'unknown-field', [...path, key], unknownFieldMessage(key)));
      continue;
    }
    out.push(resourceDiagnostic(res, 'error', codeOf(issue.code), path, describe(issue)));
  }
  return { ok: false };
}

function unknownFieldMessage(key: string): string {
  return `unknown field "${key}": remove it or check the spelling against the API reference`;
}

function codeOf(code: string): string {
  return code === 'unrecognized_keys' ? 'unknown-field' : 'invalid-field';
}

/** Zod's messages, reworded where they do not say what would be right. */
function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `required field is missing (expected ${issue.expected})`;
  if (issue.code === 'invalid_value') {
    const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
    return `invalid value ${JSON.stringify(issue.input)}: must be one of ${options}`;
  }
  return issue.message;
}
