// Tests for parseConfigText: documents, Lists, JSON, default namespaces, diagnostics and their lines, lineOf.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import { parseConfigText } from './yaml-documents.js';

/** Joins lines so that tests can name line numbers: `lines[0]` is line 1. */
const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

const route = yaml(
  '# an HTTPRoute', //                                   1
  'apiVersion: gateway.networking.k8s.io/v1', //        2
  'kind: HTTPRoute', //                                  3
  'metadata:', //                                        4
  '  name: web', //                                      5
  '  namespace: shop', //                                6
  '  labels: {app: web, tier: "1"}', //                  7
  '  annotations:', //                                   8
  '    note: hello', //                                  9
  '  creationTimestamp: 2024-01-31T12:00:00Z', //       10
  '  generation: 3', //                                 11
  '  resourceVersion: "42"', //                         12
  'spec:', //                                           13
  '  rules:', //                                        14
  '    - matches:', //                                  15
  '        - path: {type: PathPrefix, value: /a}', //   16
  '        - headers:', //                              17
  '            - name: x', //                           18
  '      backendRefs: [{name: svc, port: 80}]', //      19
);

test('multi-document file: empty documents are skipped but counted, seq continues from firstSeq', () => {
  const text = `${route}---\n---\n# comment only\n---\napiVersion: v1\nkind: Service\nmetadata: {name: svc}\n---\n`;
  const { resources, diagnostics } = parseConfigText(text, 'conf/app.yaml', 5);
  assert.deepEqual(diagnostics, []);
  const got = resources.map((r) => [r.kind, r.metadata.namespace, r.metadata.name, r.origin.doc, r.origin.line, r.seq]);
  assert.deepEqual(got, [['HTTPRoute', 'shop', 'web', 0, 2, 5], ['Service', 'default', 'svc', 3, 24, 6]]);
  assert.equal(resources[0]?.origin.file, 'conf/app.yaml');
  assert.equal(resources[0]?.apiVersion, 'gateway.networking.k8s.io/v1');
  assert.deepEqual(resources[1]?.object, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' } });
});

test('metadata fields are read', () => {
  const [res] = parseConfigText(route, 'a.yaml', 0).resources;
  assert.deepEqual(res?.metadata, {
    name: 'web',
    namespace: 'shop',
    labels: { app: 'web', tier: '1' },
    annotations: { note: 'hello' },
    creationTimestamp: '2024-01-31T12:00:00Z',
    generation: 3,
    resourceVersion: '42',
  });
  assert.equal((res?.object['spec'] as { rules: unknown[] }).rules.length, 1);
});

test('empty and comment-only files produce nothing', () => {
  for (const text of ['', '\n', '# nothing here\n', '---\n', '---\n---\n']) {
    assert.deepEqual(parseConfigText(text, 'e.yaml', 0), { resources: [], diagnostics: [] }, JSON.stringify(text));
  }
});

const namespaceCases: Array<{ name: string; kind: string; meta: string; want: string }> = [
  { name: 'namespaced kind defaults to default', kind: 'HTTPRoute', meta: '{name: a}', want: 'default' },
  { name: 'empty namespace means default', kind: 'HTTPRoute', meta: '{name: a, namespace: ""}', want: 'default' },
  { name: 'explicit namespace is kept', kind: 'Service', meta: '{name: a, namespace: mesh}', want: 'mesh' },
  { name: 'GatewayClass is cluster-scoped', kind: 'GatewayClass', meta: '{name: a}', want: '' },
  { name: 'cluster-scoped ignores a namespace', kind: 'Namespace', meta: '{name: a, namespace: x}', want: '' },
];
for (const c of namespaceCases) {
  test(`namespace: ${c.name}`, () => {
    const { resources, diagnostics } = parseConfigText(`apiVersion: v1\nkind: ${c.kind}\nmetadata: ${c.meta}\n`, 'n.yaml', 0);
    assert.deepEqual(diagnostics, []);
    assert.equal(resources[0]?.metadata.namespace, c.want);
  });
}

test('kind: List expands to its items, each with its own line and lineOf', () => {
  const text = yaml(
    'apiVersion: v1', //                 1
    'kind: List', //                     2
    'items:', //                         3
    '  - apiVersion: v1', //             4
    '    kind: Service', //              5
    '    metadata: {name: a}', //        6
    '  - apiVersion: v1', //             7
    '    kind: Namespace', //            8
    '    metadata:', //                  9
    '      name: b', //                 10
  );
  const { resources, diagnostics } = parseConfigText(`kind: Service\napiVersion: v1\nmetadata: {name: z}\n---\n${text}`, 'l.yaml', 0);
  assert.deepEqual(diagnostics, []);
  const got = resources.map((r) => [r.kind, r.metadata.namespace, r.metadata.name, r.origin.doc, r.origin.line, r.seq]);
  assert.deepEqual(got, [['Service', 'default', 'z', 0, 1, 0], ['Service', 'default', 'a', 1, 8, 1], ['Namespace', '', 'b', 1, 11, 2]]);
  assert.equal(resources[2]?.origin.lineOf(['metadata', 'name']), 14);
  assert.deepEqual(resources[1]?.object, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' } });
});

test('typed *List kinds expand and imply apiVersion and kind for their items', () => {
  const text = yaml(
    'apiVersion: gateway.networking.k8s.io/v1',
    'kind: HTTPRouteList',
    'items:',
    '  - metadata: {name: r1, namespace: x}',
    '  - kind: GRPCRoute',
    '    metadata: {name: r2}',
  );
  const { resources, diagnostics } = parseConfigText(text, 'l.yaml', 0);
  assert.deepEqual(diagnostics, []);
  const api = 'gateway.networking.k8s.io/v1';
  const got = resources.map((r) => [r.apiVersion, r.kind, r.metadata.namespace, r.metadata.name, r.origin.line]);
  assert.deepEqual(got, [[api, 'HTTPRoute', 'x', 'r1', 4], [api, 'GRPCRoute', 'default', 'r2', 5]]);
  assert.equal(resources[0]?.object['kind'], 'HTTPRoute');
});

test('a List item with problems is skipped alone', () => {
  const text = yaml('kind: List', 'items:', '  - {apiVersion: v1, kind: Service, metadata: {name: ok}}', '  - {apiVersion: v1, kind: Service}');
  const { resources, diagnostics } = parseConfigText(text, 'l.yaml', 0);
  assert.deepEqual(resources.map((r) => r.metadata.name), ['ok']);
  assert.deepEqual(pick(diagnostics), [{ code: 'invalid-object', line: 4, path: 'metadata', resource: undefined, doc: 0 }]);
});

test('JSON: a single object and a top-level array of objects', () => {
  const one = parseConfigText('{\n\t"apiVersion": "v1",\n\t"kind": "Service",\n\t"metadata": {"name": "a"}\n}\n', 'one.json', 0);
  assert.deepEqual(one.diagnostics, []);
  const got = one.resources.map((r) => [r.kind, r.metadata.name, r.origin.line, r.origin.lineOf(['metadata', 'name'])]);
  assert.deepEqual(got, [['Service', 'a', 1, 4]]);

  const text = [
    '[', //                                                                 1
    '  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}},', // 2
    '  {"apiVersion": "v1", "kind": "Service", "metadata": {}},', //         3
    '  {', //                                                               4
    '    "apiVersion": "v1", "kind": "Namespace",', //                      5
    '    "metadata": {"name": "b"}', //                                     6
    '  }', //                                                               7
    ']',
  ].join('\n');
  const many = parseConfigText(text, 'MANY.JSON', 7);
  const gotMany = many.resources.map((r) => [r.kind, r.metadata.name, r.origin.doc, r.origin.line, r.seq]);
  assert.deepEqual(gotMany, [['Service', 'a', 0, 2, 7], ['Namespace', 'b', 0, 4, 8]]);
  assert.equal(many.resources[1]?.origin.lineOf(['metadata', 'name']), 6);
  assert.deepEqual(pick(many.diagnostics), [{ code: 'invalid-object', line: 3, path: 'metadata.name', resource: undefined, doc: 0 }]);
});

test('a top-level sequence is only accepted in JSON files', () => {
  const { resources, diagnostics } = parseConfigText('- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n', 'a.yaml', 0);
  assert.deepEqual(resources, []);
  assert.deepEqual(pick(diagnostics), [{ code: 'invalid-object', line: 1, path: undefined, resource: undefined, doc: 0 }]);
  assert.match(diagnostics[0]?.message ?? '', /expected a mapping.*found a sequence/);
});

interface DiagCase {
  name: string;
  text: string;
  want: Array<Partial<Diagnostic>>;
  message?: RegExp;
  /** Names of the resources still produced from the same text. */
  names?: string[];
}
const ok = 'apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n';
/** A Service whose metadata entries start on line 4. */
const svc = (...metaLines: string[]): string => yaml('apiVersion: v1', 'kind: Service', 'metadata:', ...metaLines);
const invalid = (line: number, path?: string, resource?: string): Partial<Diagnostic> =>
  ({ code: 'invalid-object', line, ...(path === undefined ? {} : { path }), ...(resource === undefined ? {} : { resource }) });
const diagCases: DiagCase[] = [
  {
    name: 'YAML syntax error, other documents survive',
    text: `${ok}---\napiVersion: v1\nkind: Service\nmetadata: {name: bad\n---\n${ok}`,
    want: [{ code: 'yaml-syntax', line: 8, doc: 1 }],
    names: ['ok', 'ok'],
  },
  { name: 'bad indentation', text: svc('  name: a', ' namespace: b'), want: [{ code: 'yaml-syntax', line: 5, doc: 0 }] },
  {
    name: 'duplicate key',
    text: `${ok}---\n${svc('  name: a', '  name: b')}`,
    want: [{ code: 'yaml-syntax', line: 9, doc: 1, resource: undefined }],
    message: /duplicate key "name"/,
    names: ['ok'],
  },
  { name: 'unresolved alias', text: 'apiVersion: v1\nkind: *nope\n', want: [{ code: 'yaml-syntax', line: 1 }] },
  { name: 'scalar document', text: `${ok}---\njust words\n`, want: [{ ...invalid(5), doc: 1, resource: undefined }], names: ['ok'] },
  {
    name: 'missing apiVersion (line of the document)',
    text: '\n# c\nkind: Service\nmetadata: {name: a}\n',
    want: [invalid(3, 'apiVersion', 'Service default/a')],
    message: /is required/,
  },
  {
    name: 'apiVersion not a string',
    text: 'kind: GatewayClass\nmetadata: {name: gc}\napiVersion: 1\n',
    want: [invalid(3, 'apiVersion', 'GatewayClass gc')],
    message: /must be a string, found the number 1/,
  },
  { name: 'missing kind', text: 'apiVersion: v1\nmetadata: {name: a}\n', want: [{ ...invalid(1, 'kind'), resource: undefined }] },
  { name: 'kind not a string', text: 'apiVersion: v1\nmetadata: {name: a}\nkind: [Service]\n', want: [invalid(3, 'kind')] },
  { name: 'missing metadata', text: 'apiVersion: v1\nkind: Service\n', want: [{ ...invalid(1, 'metadata'), resource: undefined }] },
  {
    name: 'missing metadata.name (line of metadata)',
    text: svc('  namespace: x'),
    want: [{ ...invalid(3, 'metadata.name'), resource: undefined }],
  },
  { name: 'empty metadata.name', text: svc('  namespace: x', '  name: ""'), want: [invalid(5, 'metadata.name')] },
  {
    name: 'several problems in one document',
    text: 'apiVersion: 2\nkind: Service\nmetadata:\n  name: 7\n',
    want: [invalid(1, 'apiVersion'), invalid(4, 'metadata.name')],
  },
  {
    name: 'non-string label value',
    text: svc('  name: a', '  labels:', '    app: a', '    version: 1.5'),
    want: [invalid(7, 'metadata.labels.version', 'Service default/a')],
    message: /quote it: "1.5"/,
  },
  {
    name: 'non-string annotation value',
    text: svc('  name: a', '  annotations:', '    x.io/on: true'),
    want: [invalid(6, 'metadata.annotations.x.io/on')],
  },
  { name: 'labels not a mapping', text: svc('  name: a', '  labels: [a]'), want: [invalid(5, 'metadata.labels')] },
  {
    name: 'namespace not a string',
    text: svc('  name: a', '  namespace: {}'),
    want: [invalid(5, 'metadata.namespace', 'Service default/a')],
  },
  {
    name: 'creationTimestamp not RFC 3339',
    text: svc('  name: a', '  creationTimestamp: yesterday'),
    want: [invalid(5, 'metadata.creationTimestamp')],
  },
  { name: 'generation not an integer', text: svc('  name: a', '  generation: 1.5'), want: [invalid(5, 'metadata.generation')] },
  {
    name: 'resourceVersion not a string',
    text: svc('  name: a', '  resourceVersion: 12'),
    want: [invalid(5, 'metadata.resourceVersion')],
  },
  { name: 'List items not a sequence', text: 'apiVersion: v1\nkind: List\nitems: {a: 1}\n', want: [invalid(3, 'items')] },
];
for (const c of diagCases) {
  test(`diagnostic: ${c.name}`, () => {
    const { resources, diagnostics } = parseConfigText(c.text, 'd.yaml', 0);
    assert.deepEqual(resources.map((r) => r.metadata.name), c.names ?? []);
    assert.equal(diagnostics.length, c.want.length, JSON.stringify(diagnostics));
    c.want.forEach((want, i) => {
      const got = diagnostics[i];
      assert.equal(got?.severity, 'error');
      assert.equal(got?.file, 'd.yaml');
      for (const [key, value] of Object.entries(want)) assert.equal(got?.[key as keyof Diagnostic], value, `${key}: ${JSON.stringify(got)}`);
    });
    if (c.message !== undefined) assert.match(diagnostics[0]?.message ?? '', c.message);
    // Plain words: no source excerpt or caret lines from the parser.
    for (const d of diagnostics) assert.doesNotMatch(d.message, /\n/);
  });
}

test('YAML warnings are reported without dropping the resource', () => {
  const { resources, diagnostics } = parseConfigText('apiVersion: v1\nkind: Service\nmetadata: {name: !custom a}\n', 'w.yaml', 0);
  assert.equal(resources.length, 1);
  assert.deepEqual(pick(diagnostics), [{ code: 'yaml-warning', line: 3, path: undefined, resource: undefined, doc: 0 }]);
  assert.equal(diagnostics[0]?.severity, 'warning');
});

// Lines in `route`; it is parsed after a 4-line prefix so that lines are not relative to the file start.
const lineCases: Array<[Array<string | number>, number | undefined]> = [
  [[], 2], [['kind'], 3], [['metadata', 'labels', 'tier'], 7], [['metadata', 'annotations', 'note'], 9],
  [['spec', 'rules'], 14], [['spec', 'rules', 0], 15], [['spec', 'rules', 0, 'matches'], 15],
  [['spec', 'rules', 0, 'matches', 1], 17], [['spec', 'rules', 0, 'matches', 1, 'headers', 0, 'name'], 18],
  [['spec', 'rules', 0, 'backendRefs', 0, 'port'], 19], [['spec', 'rules', 1], undefined],
  [['spec', 'rules', 0, 'filters'], undefined], [['spec', 'rules', 'x'], undefined], [['kind', 'deeper'], undefined],
];
for (const [fieldPath, want] of lineCases) {
  test(`lineOf ${JSON.stringify(fieldPath)}`, () => {
    const text = `${yaml('apiVersion: v1', 'kind: Service', 'metadata: {name: x}')}---\n${route}`;
    const res = parseConfigText(text, 'r.yaml', 0).resources[1];
    assert.equal(res?.origin.lineOf(fieldPath), want === undefined ? undefined : want + 4);
  });
}

test('lineOf follows aliases to the anchored node', () => {
  const text = yaml('apiVersion: v1', 'kind: Service', 'metadata: {name: a}', 'x: &shared', '  port: 80', 'y: *shared');
  const [res] = parseConfigText(text, 'a.yaml', 0).resources;
  assert.equal(res?.origin.lineOf(['y', 'port']), 5);
  assert.deepEqual(res?.object['y'], { port: 80 });
});

test('resourceDiagnostic finds lines through origin.lineOf', () => {
  const [res] = parseConfigText(route, 'r.yaml', 0).resources;
  assert.ok(res);
  const d = resourceDiagnostic(res, 'error', 'invalid-field', ['spec', 'rules', 0, 'matches', 0, 'path', 'value'], 'bad');
  assert.deepEqual([d.resource, d.line, d.path], ['HTTPRoute shop/web', 16, 'spec.rules[0].matches[0].path.value']);
  const missing = resourceDiagnostic(res, 'error', 'invalid-field', ['spec', 'rules', 0, 'timeouts', 'request'], 'bad');
  assert.equal(missing.line, 15); // nearest existing ancestor: the rule item
});

function pick(ds: Diagnostic[]): Array<Pick<Diagnostic, 'code' | 'line' | 'path' | 'resource' | 'doc'>> {
  return ds.map((d) => ({ code: d.code, line: d.line, path: d.path, resource: d.resource, doc: d.doc }));
}
