// Turns the text of one YAML or JSON config file into RawResources that remember their source lines.
// Pure (no I/O): every problem becomes a Diagnostic and the offending document is skipped, nothing throws.
// Most files take the fast path (yaml-fast.ts: values only, lines found on demand); the rest, and every file
// with a YAML error or warning, are parsed by `yaml` with positions, whose messages the diagnostics carry.
import { type Document, LineCounter, isMap, isScalar, isSeq, parseAllDocuments, visit } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import {
  CLUSTER_SCOPED_KINDS,
  type FieldPath,
  type RawMetadata,
  type RawResource,
  type ResourceOrigin,
  fieldPathString,
  resourceRefString,
} from '../resource.js';
import { fastParseDocuments } from './yaml-fast.js';
import { type LineLocator, documentLocator, lazyLocator, nodeAt, subLocator } from './yaml-positions.js';

export interface ParseResult {
  readonly resources: RawResource[];
  readonly diagnostics: Diagnostic[];
}

type Obj = Record<string, unknown>;
type Problems = Array<[FieldPath, string]>;

/** One document of one file, plus the file-wide output every document appends to. */
interface Scope {
  readonly file: string;
  readonly out: ParseResult;
  readonly seq: { next: number };
  readonly index: number;
  /** Lines of paths from the document's root. */
  readonly locate: LineLocator;
  /** Whether the node at a path from the root is a YAML mapping (an alias or a tagged `!!omap` is not). */
  readonly isMapping: (path: FieldPath) => boolean;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseConfigText(text: string, file: string, firstSeq: number): ParseResult {
  const out: ParseResult = { resources: [], diagnostics: [] };
  const seq = { next: firstSeq };
  const isJson = file.toLowerCase().endsWith('.json');
  const fast = fastParseDocuments(text);
  if (fast !== undefined) {
    // `---` with nothing after it (or an explicit null) is an empty document, which kubectl skips too.
    fast.forEach((d, index) => {
      if (d.value === null) return;
      const locate = lazyLocator(text, d.start, d.end, d.line);
      addDocument({ file, out, seq, index, locate, isMapping: () => true }, d.value, isJson);
    });
    return out;
  }
  return parseWithPositions(text, file, isJson, out, seq);
}

/** What parseConfigText gives without its fast path (the tests hold the two paths to the same output). */
export function parseConfigTextWithPositions(text: string, file: string, firstSeq: number): ParseResult {
  const isJson = file.toLowerCase().endsWith('.json');
  return parseWithPositions(text, file, isJson, { resources: [], diagnostics: [] }, { next: firstSeq });
}

/** The slow path: `yaml` with every node's position, for its errors and warnings. */
function parseWithPositions(text: string, file: string, isJson: boolean, out: ParseResult, seq: { next: number }): ParseResult {
  const lines = new LineCounter();
  // prettyErrors would append a source excerpt to each message; diagnostics carry the line instead.
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if ('empty' in docs) {
    // Only comments or directives: any error belongs to the stream, not to a document.
    for (const err of docs.errors) out.diagnostics.push(yamlDiag(file, lines, undefined, err.pos[0], err.message));
    return out;
  }
  docs.forEach((doc, index) => {
    for (const w of doc.warnings) out.diagnostics.push(yamlDiag(file, lines, index, w.pos[0], w.message, 'warning'));
    for (const err of doc.errors) {
      const message = err.code === 'DUPLICATE_KEY' ? duplicateKeyMessage(doc, err.pos[0]) : err.message;
      out.diagnostics.push(yamlDiag(file, lines, index, err.pos[0], message));
    }
    const root = doc.contents;
    if (doc.errors.length > 0 || root === null || (isScalar(root) && root.value === null)) return;

    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // Unresolved aliases and alias bombs are only detected while converting.
      const message = e instanceof Error ? e.message : String(e);
      out.diagnostics.push(yamlDiag(file, lines, index, root.range[0], message));
      return;
    }
    const locate = documentLocator(doc, root, lines);
    const isMapping = (path: FieldPath): boolean => isMap(nodeAt(doc, root, path));
    // JSON has no multi-document syntax, so a top-level array is the JSON way to hold several objects.
    addDocument({ file, out, seq, index, locate, isMapping }, value, isJson && isSeq(root));
  });
  return out;
}

/** A document's value: one object, or (`arrayOfObjects`, JSON) a top-level array of them. */
function addDocument(s: Scope, value: unknown, arrayOfObjects: boolean): void {
  if (arrayOfObjects && Array.isArray(value)) value.forEach((item: unknown, i) => addObject(s, [i], item));
  else addObject(s, [], value);
}

/** Validates one object (a document, a List item or a JSON array item) and records it or its problems. */
function addObject(s: Scope, at: FieldPath, value: unknown): void {
  const origin = makeOrigin(s, at);
  if (!s.isMapping(at) || !isObj(value)) {
    const message = `expected a mapping with apiVersion, kind and metadata, found ${describe(value)}`;
    s.out.diagnostics.push(objectDiag(origin, undefined, [], message));
    return;
  }
  const kind = value['kind'];
  // `kind: List` always; other `*List` kinds (HTTPRouteList from `kubectl get -o yaml`) only with items.
  if (kind === 'List' || (typeof kind === 'string' && /.List$/.test(kind) && Array.isArray(value['items']))) {
    expandList(s, at, value, kind, origin);
    return;
  }

  const problems: Problems = [];
  const apiVersion = requireString(problems, ['apiVersion'], value['apiVersion']);
  const kindStr = requireString(problems, ['kind'], kind);
  const meta = value['metadata'];
  let metadata: RawMetadata | undefined;
  if (isObj(meta)) metadata = readMetadata(meta, kindStr, problems);
  else problems.push([['metadata'], meta == null ? 'is required' : `must be a mapping, found ${describe(meta)}`]);

  // Diagnostics name the resource only when both kind and name are known.
  const resource =
    kindStr !== undefined && metadata !== undefined
      ? resourceRefString(kindStr, metadata.namespace, metadata.name)
      : undefined;
  for (const [path, message] of problems) s.out.diagnostics.push(objectDiag(origin, resource, path, message));
  if (problems.length > 0 || apiVersion === undefined || kindStr === undefined || metadata === undefined) return;
  s.out.resources.push({ apiVersion, kind: kindStr, metadata, object: value, origin, seq: s.seq.next++ });
}

function requireString(problems: Problems, path: FieldPath, v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  problems.push([path, v == null || v === '' ? 'is required' : `must be a string, found ${describe(v)}`]);
  return undefined;
}

/** Returns the metadata when name is valid (so the resource can be named), recording every problem. */
function readMetadata(meta: Obj, kind: string | undefined, problems: Problems): RawMetadata | undefined {
  const name = requireString(problems, ['metadata', 'name'], meta['name']);
  const ns = meta['namespace'];
  if (ns != null && typeof ns !== 'string') {
    problems.push([['metadata', 'namespace'], `must be a string, found ${describe(ns)}`]);
  }
  let namespace = typeof ns === 'string' && ns !== '' ? ns : 'default';
  if (kind !== undefined && CLUSTER_SCOPED_KINDS.has(kind)) namespace = '';

  const stringMap = (field: 'labels' | 'annotations'): Record<string, string> => {
    const v = meta[field];
    if (v == null) return {};
    if (!isObj(v)) {
      problems.push([['metadata', field], `must be a mapping of strings to strings, found ${describe(v)}`]);
      return {};
    }
    for (const [key, item] of Object.entries(v)) {
      if (typeof item === 'string') continue;
      // Unquoted `version: 1.0` or `enabled: true` is the usual cause, so say how to fix it.
      const hint = typeof item === 'number' || typeof item === 'boolean' ? `; quote it: "${String(item)}"` : '';
      const what = field === 'labels' ? 'label' : 'annotation';
      problems.push([['metadata', field, key], `${what} values must be strings, found ${describe(item)}${hint}`]);
    }
    // Safe: any non-string value was recorded as a problem above, and then the resource is dropped.
    return v as Record<string, string>;
  };
  const labels = stringMap('labels');
  const annotations = stringMap('annotations');

  const ts = meta['creationTimestamp'] ?? undefined;
  if (ts !== undefined && (typeof ts !== 'string' || !RFC3339.test(ts) || Number.isNaN(Date.parse(ts)))) {
    const message = `must be an RFC 3339 timestamp such as 2024-01-31T12:00:00Z, found ${describe(ts)}`;
    problems.push([['metadata', 'creationTimestamp'], message]);
  }
  const gen = meta['generation'] ?? undefined;
  if (gen !== undefined && !(typeof gen === 'number' && Number.isSafeInteger(gen) && gen >= 0)) {
    problems.push([['metadata', 'generation'], `must be a non-negative integer, found ${describe(gen)}`]);
  }
  const rv = meta['resourceVersion'] ?? undefined;
  if (rv !== undefined && typeof rv !== 'string') {
    problems.push([['metadata', 'resourceVersion'], `must be a string, found ${describe(rv)}`]);
  }
  if (name === undefined) return undefined;
  const creationTimestamp = typeof ts === 'string' ? ts : undefined;
  const generation = typeof gen === 'number' ? gen : undefined;
  const resourceVersion = typeof rv === 'string' ? rv : undefined;
  return { name, namespace, labels, annotations, creationTimestamp, generation, resourceVersion };
}

function expandList(s: Scope, at: FieldPath, value: Obj, kind: string, origin: ResourceOrigin): void {
  const items = value['items'];
  if (items == null) return;
  if (!Array.isArray(items)) {
    const message = `must be a sequence of objects, found ${describe(items)}`;
    s.out.diagnostics.push(objectDiag(origin, undefined, ['items'], message));
    return;
  }
  // The API server leaves apiVersion and kind out of the items of typed lists; the list implies them.
  const impliedKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
  items.forEach((item: unknown, i) => {
    const implied = { apiVersion: value['apiVersion'], kind: impliedKind };
    const v = impliedKind !== undefined && isObj(item) ? { ...implied, ...item } : item;
    addObject(s, [...at, 'items', i], v);
  });
}

/** Where the object at `at` comes from; its lines are looked up only when a diagnostic asks for them. */
function makeOrigin(s: Scope, at: FieldPath): ResourceOrigin {
  const lineOf = subLocator(s.locate, at);
  return {
    file: s.file,
    doc: s.index,
    get line(): number {
      return lineOf([]) ?? 1;
    },
    lineOf,
  };
}

/** Names the repeated key, which the parser's own message ("Map keys must be unique") does not. */
function duplicateKeyMessage(doc: Document.Parsed, offset: number): string {
  let key = '';
  visit(doc, {
    Scalar(_, node) {
      if (node.range?.[0] !== offset) return undefined;
      key = ` "${String(node.value)}"`;
      return visit.BREAK;
    },
  });
  return `duplicate key${key}: map keys must be unique`;
}

/** A file-level YAML problem, where no resource can be named. */
function yamlDiag(
  file: string,
  lines: LineCounter,
  doc: number | undefined,
  offset: number,
  message: string,
  severity: 'error' | 'warning' = 'error',
): Diagnostic {
  const code = severity === 'error' ? 'yaml-syntax' : 'yaml-warning';
  return { severity, code, resource: undefined, file, doc, line: lines.linePos(offset).line, path: undefined, message };
}

/** An `invalid-object` error at `path`, or at the nearest enclosing field that exists, or at the object. */
function objectDiag(origin: ResourceOrigin, resource: string | undefined, path: FieldPath, message: string): Diagnostic {
  let line: number | undefined;
  for (let n = path.length; n > 0 && line === undefined; n--) line = origin.lineOf(path.slice(0, n));
  const where = { file: origin.file, doc: origin.doc, line: line ?? origin.line };
  const fieldPath = path.length === 0 ? undefined : fieldPathString(path);
  return { severity: 'error', code: 'invalid-object', resource, ...where, path: fieldPath, message };
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v == null) return 'nothing';
  if (Array.isArray(v)) return 'a sequence';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return v === '' ? 'an empty string' : `the string "${v}"`;
  return `${typeof v === 'number' ? 'the number' : `a ${typeof v}`} ${String(v)}`;
}
