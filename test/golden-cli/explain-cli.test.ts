// Golden tests for `waypoint explain` as a user runs it (the built CLI, a child process): each case's
// stdout, stderr and exit code are compared with test/golden-cli/explain/<case>.txt.
// Regenerate with `UPDATE_GOLDEN=1 node --test dist/test/golden-cli` (then review every changed file).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// Tests run from dist/test/golden-cli/; the cases live in the source tree.
const HERE = fileURLToPath(new URL('../../../test/golden-cli/', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const MESH = path.join(HERE, 'mesh');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const TOKENS = JSON.parse(readFileSync(fileURLToPath(new URL('../../../test/e2e/jwt-testdata/istio-test-tokens.json', import.meta.url)), 'utf8')) as Record<string, string>;
const FRONTEND = 'spiffe://cluster.local/ns/shop/sa/frontend';

const cases: ReadonlyArray<{ readonly name: string; readonly args: ReadonlyArray<string> }> = [
  { name: 'allowed-default-route', args: ['--from', FRONTEND, 'GET', 'http://cart.shop.svc.cluster.local/items'] },
  { name: 'header-match-canary', args: ['--from', FRONTEND, '-H', 'x-canary: yes', '--expect', '200', 'GET', 'http://cart.shop/items'] },
  { name: 'deny-policy', args: ['--from', FRONTEND, '--expect', 'deny', 'DELETE', 'http://127.77.0.1/items/1'] },
  { name: 'no-allow-match', args: ['--from', 'spiffe://cluster.local/ns/other/sa/x', '--expect', 'allow', 'GET', 'http://cart.shop/items'] },
  { name: 'jwt-admin', args: ['--jwt', TOKENS['TokenIssuer1'] ?? '', '--expect', 'allow', 'GET', 'http://cart.shop/admin/stats'] },
  { name: 'jwt-invalid', args: ['--jwt', 'not.a.token', 'GET', 'http://cart.shop/admin/stats'] },
  { name: 'json-output', args: ['--from', FRONTEND, '-o', 'json', 'GET', 'http://cart.shop/items?q=1'] },
  { name: 'h2c-backend', args: ['--expect', '200', 'POST', 'http://stream.shop/events'] },
  { name: 'unknown-service', args: ['GET', 'http://nowhere.shop/'] },
  { name: 'bad-identity', args: ['--from', 'frontend', 'GET', 'http://cart.shop/'] },
];

function run(args: ReadonlyArray<string>): Promise<string> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, 'explain', '-c', MESH, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve(`${stdout}${stderr === '' ? '' : `--- stderr\n${stderr}`}--- exit ${code}\n`);
    });
  });
}

for (const c of cases) {
  test(`waypoint explain: ${c.name}`, async () => {
    const actual = await run(c.args);
    const file = path.join(HERE, 'explain', `${c.name}.txt`);
    if (UPDATE) writeFileSync(file, actual);
    assert.ok(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 to create it, then review it`);
    assert.equal(actual, readFileSync(file, 'utf8'));
  });
}
