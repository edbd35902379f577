// Diagnostics: what validation and compilation say about a resource, with where and why.
import { type FieldPath, type RawResource, fieldPathString, resourceRefString } from './resource.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable machine-readable code, e.g. `invalid-field`, `unknown-kind`, `backend-not-found`. */
  readonly code: string;
  /** `Kind namespace/name`, absent for file-level problems such as malformed YAML. */
  readonly resource: string | undefined;
  readonly file: string | undefined;
  readonly doc: number | undefined;
  readonly line: number | undefined;
  /** Field path inside the resource, e.g. `spec.rules[0].backendRefs[1].port`. */
  readonly path: string | undefined;
  readonly message: string;
}

/** A diagnostic about a field of a resource; the line is looked up from the resource's origin. */
export function resourceDiagnostic(
  res: RawResource,
  severity: Severity,
  code: string,
  path: FieldPath,
  message: string,
): Diagnostic {
  return {
    severity,
    code,
    resource: resourceRefString(res.kind, res.metadata.namespace, res.metadata.name),
    file: res.origin.file,
    doc: res.origin.doc,
    line: res.origin.lineOf(path) ?? nearestLine(res, path),
    path: path.length === 0 ? undefined : fieldPathString(path),
    message,
  };
}

function nearestLine(res: RawResource, path: FieldPath): number {
  for (let n = path.length - 1; n > 0; n--) {
    const line = res.origin.lineOf(path.slice(0, n));
    if (line !== undefined) return line;
  }
  return res.origin.line;
}

/** One line, the way compilers print: `file:line: error: Kind ns/name: spec.x: message [code]`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file === undefined ? '' : `${d.file}${d.line === undefined ? '' : `:${d.line}`}: `;
  const what = d.resource === undefined ? '' : `${d.resource}: `;
  const field = d.path === undefined ? '' : `${d.path}: `;
  return `${where}${d.severity}: ${what}${field}${d.message} [${d.code}]`;
}

export function hasErrors(diagnostics: ReadonlyArray<Diagnostic>): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Deterministic order for output and golden files: file, line, resource, path, code. */
export function sortDiagnostics(diagnostics: ReadonlyArray<Diagnostic>): Diagnostic[] {
  const key = (d: Diagnostic): string =>
    `${d.file ?? ''}\u0000${String(d.line ?? 0).padStart(8, '0')}\u0000${d.resource ?? ''}\u0000${d.path ?? ''}\u0000${d.code}\u0000${d.message}`;
  return [...diagnostics].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
