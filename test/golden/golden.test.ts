// Golden tests: each test/golden/cases/<case>/input.yaml is compiled and its /config_dump serialization
// and diagnostics are compared with the checked-in snapshot.json and diagnostics.json.
// Regenerate with `UPDATE_GOLDEN=1 node --test dist/test/golden` (then review every changed file).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compile } from '../../src/config/compile/index.js';
import { sortDiagnostics } from '../../src/config/diagnostics.js';
import { dumpSnapshot } from '../../src/config/dump.js';
import { parseConfigText } from '../../src/config/source/yaml-documents.js';

// Tests run from dist/test/golden/, the cases live in the source tree.
const CASES_DIR = fileURLToPath(new URL('../../../test/golden/cases/', import.meta.url));
const DEMO_DIR = fileURLToPath(new URL('../../../examples/demo/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

/** Every case the suite is expected to hold, so a deleted or misnamed directory fails loudly. */
const EXPECTED_CASES = ['bad-input', 'consumer-routes', 'demo', 'enrollment', 'gateway-parent', 'no-waypoint', 'precedence', 'route-filters', 'virtual-service', 'wasm-plugins', 'weights'];

interface CaseOptions {
  readonly waypoint: string | undefined;
}

function readOptions(dir: string): CaseOptions {
  const file = path.join(dir, 'options.json');
  if (!existsSync(file)) return { waypoint: undefined };
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${file}: expected an object`);
  const waypoint: unknown = (parsed as Record<string, unknown>)['waypoint'];
  if (waypoint !== undefined && typeof waypoint !== 'string') throw new Error(`${file}: "waypoint" must be a string`);
  return { waypoint };
}

function pretty(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** What the golden files hold for one case: the dump (or the failure status) and every diagnostic. */
function renderCase(text: string, options: CaseOptions): { snapshot: string; diagnostics: string } {
  // The file name is fixed so the goldens do not depend on where the repository is checked out.
  const parsed = parseConfigText(text, 'input.yaml', 0);
  const result = compile(parsed.resources, { waypoint: options.waypoint, clusterDomain: 'cluster.local', version: 1 });
  const snapshot = result.ok ? dumpSnapshot(result.snapshot) : { ok: false, status: result.status };
  const diagnostics = sortDiagnostics([...parsed.diagnostics, ...result.diagnostics]);
  return { snapshot: pretty(snapshot), diagnostics: pretty(diagnostics) };
}

function compareOrWrite(file: string, actual: string): void {
  if (UPDATE) {
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 to create it, then review it`);
  // Parsed comparison first gives a structural diff; the text comparison then pins the formatting.
  const expected = readFileSync(file, 'utf8');
  assert.deepEqual(JSON.parse(actual), JSON.parse(expected), `${file} differs (UPDATE_GOLDEN=1 regenerates it)`);
  assert.equal(actual, expected, `${file} differs in formatting`);
}

const cases = readdirSync(CASES_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(CASES_DIR, d.name, 'input.yaml')))
  .map((d) => d.name)
  .sort();

test('the golden suite holds every expected case', () => {
  assert.deepEqual(cases, EXPECTED_CASES);
});

for (const name of cases) {
  test(`golden case ${name}: compile output and diagnostics match the checked-in files`, () => {
    const dir = path.join(CASES_DIR, name);
    const text = readFileSync(path.join(dir, 'input.yaml'), 'utf8');
    const rendered = renderCase(text, readOptions(dir));
    compareOrWrite(path.join(dir, 'snapshot.json'), rendered.snapshot);
    compareOrWrite(path.join(dir, 'diagnostics.json'), rendered.diagnostics);
  });

  test(`golden case ${name}: compiling twice gives the same output (deterministic)`, () => {
    const dir = path.join(CASES_DIR, name);
    const text = readFileSync(path.join(dir, 'input.yaml'), 'utf8');
    assert.deepEqual(renderCase(text, readOptions(dir)), renderCase(text, readOptions(dir)));
  });
}

test('golden case demo is examples/demo/*.yaml concatenated (after its header comment)', () => {
  const files = readdirSync(DEMO_DIR).filter((f) => f.endsWith('.yaml')).sort();
  const expected = files.map((f) => readFileSync(path.join(DEMO_DIR, f), 'utf8')).join('---\n');
  const input = readFileSync(path.join(CASES_DIR, 'demo', 'input.yaml'), 'utf8');
  const body = input.split('\n').filter((_, i) => i >= 3).join('\n');
  assert.equal(body, expected, 'regenerate test/golden/cases/demo/input.yaml from examples/demo (see its header)');
});
