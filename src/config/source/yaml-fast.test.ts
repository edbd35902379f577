// The fast path (js-yaml) must read every text it accepts exactly as `yaml` does, and decline the rest:
// values per document, then whole files through parseConfigText (resources, origins, lines, diagnostics).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { FieldPath } from '../resource.js';
import { parseConfigText, parseConfigTextWithPositions } from './yaml-documents.js';
import { fastParseDocuments } from './yaml-fast.js';

/** What `yaml` makes of each document (null for empty ones), as the slow path reads them. */
function yamlValues(text: string): unknown[] {
  const docs = parseAllDocuments(text);
  if ('empty' in docs) return [];
  return docs.map((d) => {
    assert.deepEqual([...d.errors, ...d.warnings].map((e) => e.message), [], 'the case must be valid YAML');
    return d.toJS() ?? null;
  });
}

// Texts the fast path takes: the values must be those of `yaml` (YAML 1.2 core schema, as `yaml` resolves it).
const sameValues: Array<{ name: string; text: string }> = [
  { name: 'integers as the core schema reads them', text: 'a: [0o17, 0x1F, +12, -0, 012, 9007199254740993]\n' },
  { name: 'not integers in the core schema', text: 'a: [0b101, -0x1F, +0o7, 0o8, 1_000, 0x]\n' },
  { name: 'floats', text: 'a: [-.5, .5, 1., 1e3, 1E+3, -2.5e-3, .inf, -.Inf, +.INF, .NaN, .nan]\n' },
  { name: 'YAML 1.1 booleans stay strings', text: 'a: [yes, no, on, off, y, n, tRUE, True, FALSE]\n' },
  { name: 'nulls', text: 'a: ~\nb: Null\nc:\nd: NULL\ne: nULL\n' },
  { name: 'timestamps and sexagesimals stay strings', text: 'a: 2024-01-31T12:00:00Z\nb: 2024-01-31\nc: 1:20\n' },
  { name: 'a merge key is a plain key (YAML 1.2)', text: '<<: {b: 1}\na: 2\n' },
  { name: '__proto__ is an own key', text: '__proto__: {x: 1}\na: 1\n' },
  { name: 'scalar keys become strings', text: '1: a\n2.5: b\ntrue: c\n0x1F: d\n' },
  { name: 'block scalars', text: 'a: |\n  x\n   y\n\nb: >-\n  x\n\n  y\nc: |-\n  z\n\nd: >\n  p\n  q\n\n' },
  { name: 'quoted scalars and escapes', text: 'a: "x\\ty\\u00e9\\x41\\U0001F600\\/\\"\\\\"\nb: \'it\'\'s\'\nc: [\'a, b\', "c]"]\nd: don\'t "quote"\n' },
  { name: 'multi-line plain scalars fold', text: 'a: x y\n  z\n\n  w\n' },
  { name: 'comments everywhere', text: '# head\na: 1 # c\n# mid\nb:    # c\n  c: [1, 2] # c\n' },
  { name: 'block and compact sequences', text: 'a:\n- b\n- c: d\n  e: f\n- - g\n  - h\ni: [j, {k: l}, [m]]\n' },
  { name: 'flow mappings, trailing commas, implicit null values', text: 'a: {b: c, d, e: [f, ], }\n' },
  { name: 'strings with indicators inside', text: 'a: b:c\nb: http://x/y?z=1&w=2\nc: x#y\nd: "a #"\ne: -b\nf: [a:b]\n' },
  { name: 'documents: empty ones count, ... ends one', text: 'a: 1\n---\n---\n# c\n---\nb: 2\n...\n# after\n---\nc: 3\n...\n' },
  { name: 'a root block scalar and a root flow mapping', text: '--- |\n  abc\n--- {a: 1}\n--- # c\nb: 2\n' },
  { name: 'CRLF line ends and a byte order mark', text: '\ufeffa: 1\r\nb:\r\n  - c\r\n---\r\nd: "e"\r\n' },
  { name: 'JSON, pretty-printed', text: '{\n  "a": [\n    1,\n    {"b": null}\n  ],\n"c": "d"\n}\n' },
  { name: 'a root sequence', text: '- a\n- b: c\n' },
];

for (const c of sameValues) {
  test(`fast path reads like yaml: ${c.name}`, () => {
    const fast = fastParseDocuments(c.text);
    assert.ok(fast !== undefined, 'expected the fast path to take this text');
    assert.deepEqual(fast.map((d) => d.value), yamlValues(c.text));
  });
}

// Texts the fast path must leave to `yaml`: it would read them differently, or `yaml` has something to say.
const declined: Array<{ name: string; text: string }> = [
  { name: 'anchor and alias', text: 'a: &x 1\nb: *x\n' },
  { name: 'merge through an alias', text: 'base: &b {x: 1}\nc:\n  <<: *b\n' },
  { name: 'a tag', text: 'a: !!str 1\n' },
  { name: 'an unknown tag (yaml warns)', text: 'a: !custom b\n' },
  { name: 'a directive', text: '%YAML 1.2\n---\na: 1\n' },
  { name: 'an explicit key', text: '? a\n: b\n' },
  { name: 'a null key (yaml: "")', text: '~: v\n' },
  { name: 'a null key spelt out', text: 'x: {null: v}\n' },
  { name: 'an empty key', text: 'x:\n  : v\n' },
  { name: 'a flow sequence as key', text: '[a, b]: c\n' },
  { name: 'a flow mapping as key', text: '{a: 1}: c\n' },
  { name: 'a comment right after a quote (yaml: error)', text: 'a: "b"#c\n' },
  { name: 'an implicit key over 1024 characters', text: `${'k'.repeat(1030)}: v\n` },
  { name: 'a multi-line flow sequence under a block mapping', text: 'a:\n  b: [\n  c]\n' },
  { name: 'a multi-line flow mapping in a block sequence', text: '- a: {b: c,\n  d: e}\n' },
  { name: 'a flow end at the parent indent (yaml warns)', text: 'key: [\n  a\n]\n' },
  { name: 'duplicate keys', text: 'a: 1\na: 2\n' },
  { name: 'a syntax error', text: 'a: [b\n' },
  { name: 'content after ...', text: 'a: 1\n... b\n' },
  { name: 'a lone CR', text: 'a: 1\rb: 2\n' },
  { name: '... outside a document (yaml: an empty one)', text: 'a: 1\n...\n...\n' },
  { name: 'a line starting with --- that is no marker', text: '---word: 1\n' },
  { name: 'a line of four dashes', text: '----\n' },
  { name: 'an empty sequence entry', text: 'a:\n  -\n - b\n' },
  { name: 'a block scalar header opening a line', text: 'k:\n   >-\n  \n # c\n' },
  { name: 'a multi-line quoted scalar', text: 'a:\n  - b: "x\n  c: y"\n' },
  { name: 'a tab in indentation', text: 'a:\n\tb\n' },
  { name: 'keep chomping', text: 'a: >+\n ' },
  { name: 'an indentation indicator', text: 'a: |2\n   ' },
  { name: 'spaces on a blank line after a block scalar header', text: 'a: |\n   \n  #c\nb: 1\n' },
  { name: 'a flow sequence whose end is in a comment', text: 'a:\n  b: [1, #c]\n  ]\n' },
  { name: 'a # right after [', text: 'a: [#c, x]\nb: 1]\n' },
  { name: 'a control character', text: 'a: \u0001\n' },
];

for (const c of declined) {
  test(`fast path declines: ${c.name}`, () => {
    assert.equal(fastParseDocuments(c.text), undefined);
  });
}

test('long lines without a late key stay on the fast path (e.g. last-applied-configuration)', () => {
  const text = `a: ${'v'.repeat(2000)}\nb: |\n  {"x":"${'y'.repeat(2000)}"}\n`;
  assert.ok(fastParseDocuments(text) !== undefined);
});

const k8s = (...lines: string[]): string => `${lines.join('\n')}\n`;
const svc = k8s('apiVersion: v1', 'kind: Service', 'metadata:', '  name: a', '  labels: {app: a}', 'spec:', '  ports:', '    - port: 80');

// Whole files: the same resources, origins, lines and diagnostics whichever path reads them.
const files: Array<{ name: string; file: string; text: string; paths: FieldPath[] }> = [
  {
    name: 'documents with comments, empties and diagnostics',
    file: 'a.yaml',
    text: `# head\n\n${svc}---\n---\n# c\n\n${svc.replace('name: a', 'name: b').replace('{app: a}', '{app: 1.5}')}---\n${k8s('apiVersion: v1', 'kind: Service')}`,
    paths: [['metadata', 'name'], ['spec', 'ports', 0, 'port'], ['spec', 'ports', 1], ['nope']],
  },
  {
    name: 'a List and a typed List',
    file: 'l.yaml',
    text: `${k8s('apiVersion: v1', 'kind: List', 'items:', '  - apiVersion: v1', '    kind: Service', '    metadata: {name: x}', '  - kind: Service', '    metadata: {name: y}')}---\n${k8s('apiVersion: v1', 'kind: ServiceList', 'items:', '- metadata: {name: z}', '  spec: {ports: [{port: 1}]}')}`,
    paths: [['metadata', 'name'], ['spec', 'ports', 0]],
  },
  {
    name: 'JSON array of objects',
    file: 'j.json',
    text: '[\n  {"apiVersion": "v1", "kind": "Service",\n   "metadata": {"name": "a"}},\n  {"apiVersion": "v1",\n   "kind": "Service", "metadata": {}}\n]\n',
    paths: [['metadata', 'name'], ['kind']],
  },
  {
    name: 'a document that is not a mapping',
    file: 's.yaml',
    text: `${svc}---\njust words\n---\n- a\n`,
    paths: [['metadata']],
  },
];

for (const c of files) {
  test(`parseConfigText, both paths alike: ${c.name}`, () => {
    assert.ok(fastParseDocuments(c.text) !== undefined, 'expected the fast path to take this text');
    const fast = parseConfigText(c.text, c.file, 3);
    const slow = parseConfigTextWithPositions(c.text, c.file, 3);
    assert.deepEqual(fast.diagnostics, slow.diagnostics);
    const view = (r: (typeof fast.resources)[number]): unknown[] => [
      r.apiVersion, r.kind, r.metadata, r.object, r.seq, r.origin.file, r.origin.doc, r.origin.line,
      c.paths.map((p) => r.origin.lineOf(p)),
    ];
    assert.deepEqual(fast.resources.map(view), slow.resources.map(view));
  });
}

/** Every config file of the repository: examples, deploy manifests, test fixtures and golden inputs. */
function repositoryConfigFiles(): string[] {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && !e.name.startsWith('.')) walk(p);
      else if (/\.(ya?ml|json)$/.test(e.name)) out.push(p);
    }
  };
  for (const dir of ['examples', 'deploy', 'test']) walk(path.join(root, dir));
  return out;
}

test('both paths read every config file of the repository alike, and most take the fast path', () => {
  const files = repositoryConfigFiles();
  assert.ok(files.length >= 20, `only ${files.length} config files found`);
  let fastCount = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (fastParseDocuments(text) !== undefined) fastCount++;
    const fast = parseConfigText(text, file, 0);
    const slow = parseConfigTextWithPositions(text, file, 0);
    assert.deepEqual(fast.diagnostics, slow.diagnostics, file);
    const view = (r: (typeof fast.resources)[number]): unknown[] => [
      r.apiVersion, r.kind, r.metadata, r.object, r.seq, r.origin.doc, r.origin.line,
      r.origin.lineOf(['metadata', 'name']), r.origin.lineOf(['spec']),
    ];
    assert.deepEqual(fast.resources.map(view), slow.resources.map(view), file);
  }
  assert.ok(fastCount >= files.length * 0.8, `only ${fastCount} of ${files.length} files took the fast path`);
});

/** mulberry32: a small seeded generator, so the generated texts are the same on every run. */
function generator(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCALARS = [
  'a', 'b c', '1', '-1', '0x1f', '0o7', '1.5', '.5', 'true', 'no', '~', 'null', '', '"q"', "'s'", '"a\\nb"', 'x:y', 'x #c',
  '-', '- a', ':', 'a:', '[a]', '{a: 1}', '[a, {b: c}]', '{a, b}', '|', '>-', '"', "'", '#c', '@x', '%x', 'a  b', 'a\tb',
  '{', '}', '[', ']', ',', 'a,b', 'http://x:80/y', '1:2', '2024-01-01', '0b1', '+1', '1e5', '.inf', '.NaN', 'k: v',
];

/** Short texts of YAML fragments at random indents: mostly invalid or odd, which is where parsers differ. */
function randomYaml(rnd: () => number): string {
  const pick = <T>(a: ReadonlyArray<T>): T => a[Math.floor(rnd() * a.length)] as T;
  const key = (): string => pick(['a', 'b', 'k', '"k"', "'k'", 'x y', '1']);
  const lines: Array<() => string> = [
    () => `${key()}:${pick([' ', '', '  '])}${pick(SCALARS)}`, () => `- ${pick(SCALARS)}`, () => '-', () => `${key()}:`,
    () => pick(SCALARS), () => '# comment', () => '', () => `  ${pick(SCALARS)}`, () => '---', () => '...',
    () => `- ${key()}: ${pick(SCALARS)}`, () => `${key()}: ${pick(['|', '>', '|-', '>+', '|2'])}`, () => `- ${pick(['|', '>-'])}`,
    () => `${key()}: "${pick(['x', 'y z', ''])}`, () => `${pick(['x', 'y z', ''])}"`, () => `${key()}: '${pick(['x', "it''s", ''])}`,
    () => `\t${pick(SCALARS)}`, () => `${key()}:\t${pick(SCALARS)}`, () => `${key()}: [${pick(SCALARS)}, ${pick(SCALARS)}]`,
    () => `- {${key()}: ${pick(SCALARS)}}`, () => `${key()}: ${pick(SCALARS)} # ${pick(SCALARS)}`,
  ];
  const out: string[] = [];
  for (let n = 1 + Math.floor(rnd() * 6); n > 0; n--) out.push(' '.repeat(pick([0, 0, 2, 2, 4, 1, 3])) + pick(lines)());
  return out.join('\n') + pick(['\n', '']);
}

test('generated texts: whatever the fast path takes, it reads as yaml does (errors and warnings included)', () => {
  const rnd = generator(13);
  let taken = 0;
  for (let i = 0; i < 6000; i++) {
    const text = randomYaml(rnd);
    const fast = fastParseDocuments(text);
    if (fast === undefined) continue;
    taken++;
    const docs = parseAllDocuments(text);
    const problems = 'empty' in docs ? docs.errors : docs.flatMap((d) => [...d.errors, ...d.warnings]);
    assert.deepEqual(problems.map((e) => e.code), [], `yaml has something to say about ${JSON.stringify(text)}`);
    const values = 'empty' in docs ? [] : docs.map((d) => d.toJS() ?? null);
    assert.deepEqual(fast.map((d) => d.value), values, JSON.stringify(text));
  }
  assert.ok(taken > 500, `only ${taken} of 6000 texts took the fast path`);
});
