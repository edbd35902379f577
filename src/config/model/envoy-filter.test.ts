// EnvoyFilter is never applied: validation reports each one with a pointer to WasmPlugin, and the rest applies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../source/yaml-documents.js';
import { validateResources } from '../validate/validate.js';

const cases = [
  {
    name: 'EnvoyFilter with patches names spec.configPatches and points to WasmPlugin',
    yaml: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: ef, namespace: apps}\nspec:\n  configPatches:\n  - applyTo: HTTP_FILTER\n    patch: {operation: INSERT_BEFORE}\n',
    path: 'spec.configPatches', line: 5, count: /its 1 configPatch is not applied/,
  },
  {
    name: 'EnvoyFilter without patches is still reported',
    yaml: 'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: empty, namespace: apps}\nspec: {}\n',
    path: undefined, line: 1, count: /ignored: /,
  },
];

for (const c of cases) {
  test(c.name, () => {
    const svc = 'apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: apps}\nspec: {ports: [{port: 80}]}\n---\n';
    const parsed = parseConfigText(svc + c.yaml, 'ef.yaml', 0);
    const result = validateResources(parsed.resources);
    assert.equal(result.resources.services.size, 1, 'the rest of the config applies');
    assert.equal(result.diagnostics.length, 1);
    const d = result.diagnostics[0];
    assert.ok(d !== undefined);
    assert.equal(d.severity, 'warning');
    assert.equal(d.code, 'envoy-filter-unsupported');
    assert.equal(d.path, c.path);
    assert.equal(d.line, c.line + 5);
    assert.match(d.message, /not supported on waypoints/);
    assert.match(d.message, /WasmPlugin/);
    assert.match(d.message, c.count);
  });
}
