// Golden tests for `waypoint analyze`: each cases/<case>/config.yaml is analyzed through the CLI command and its
// text and JSON output compared with expected.txt and expected.json; the exit code with expected-exit.
// Regenerate with `UPDATE_GOLDEN=1 node --test dist/test/golden-analyze` and review every changed file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { analyzeCommand } from '../../src/cli/analyze-command.js';

const CASES_DIR = fileURLToPath(new URL('../../../test/golden-analyze/cases/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const EXPECTED_CASES = ['classic-apis', 'clean', 'unbound', 'virtual-services'];

test('the analyze golden suite holds every expected case', () => {
  assert.deepEqual(readdirSync(CASES_DIR).sort(), EXPECTED_CASES);
});

async function run(dir: string, output: 'text' | 'json'): Promise<{ out: string; code: number }> {
  let out = '';
  const code = await analyzeCommand({ config: [path.join(dir, 'config.yaml')], waypoint: undefined, clusterDomain: 'cluster.local', output }, (s) => (out += s));
  // Paths differ per checkout: keep them relative to the case directory.
  return { out: out.split(dir + path.sep).join(''), code };
}

for (const name of EXPECTED_CASES) {
  test(`analyze golden case ${name}`, async () => {
    const dir = path.join(CASES_DIR, name);
    const text = await run(dir, 'text');
    const json = await run(dir, 'json');
    assert.equal(text.code, json.code, 'both outputs exit alike');
    const files: Array<[string, string]> = [['expected.txt', text.out], ['expected.json', json.out], ['expected-exit', `${text.code}\n`]];
    for (const [file, actual] of files) {
      const at = path.join(dir, file);
      if (UPDATE) writeFileSync(at, actual);
      assert.equal(actual, readFileSync(at, 'utf8'), `${at} differs (UPDATE_GOLDEN=1 regenerates it)`);
    }
  });
}
