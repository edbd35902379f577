// Golden tests for `waypoint config routes|clusters|listeners|policies` and `waypoint status` tables,
// rendered from the /config_dump of the golden mesh (test/golden-cli/mesh), and the commands run for
// real against a live waypoint's admin server.
// Regenerate with `UPDATE_GOLDEN=1 node --test dist/test/golden-cli` (then review every changed file).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Waypoint } from '../../src/app/waypoint.js';
import { CONFIG_SECTIONS, configCommand, renderSection } from '../../src/cli/config-command.js';
import { renderStatus, statusCommand } from '../../src/cli/status-command.js';
import { dumpSnapshot } from '../../src/config/dump.js';
import { FileSource } from '../../src/config/source/file-source.js';
import { silentLogger } from '../../src/observability/logger.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';

const HERE = fileURLToPath(new URL('../../../test/golden-cli/', import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
let dump: unknown;
let mesh: TestMesh;

before(async () => {
  // Compiled only (no start): nothing binds, the dump is what a running waypoint serves.
  const w = new Waypoint({
    source: new FileSource([path.join(HERE, 'mesh')]), waypoint: undefined, clusterDomain: 'cluster.local', meshConfigFile: undefined,
    adminAddress: { host: '127.0.0.1', port: 0 }, metricsAddress: undefined, hboneAddress: undefined, connectTimeoutMs: 1000, log: silentLogger, random: Math.random, observer: undefined,
  });
  await w.reload();
  const s = w.store.current;
  assert.ok(s !== undefined);
  dump = JSON.parse(JSON.stringify(dumpSnapshot(s))) as unknown;
  await w.stop(0);
  const vip = vipRange();
  mesh = await startMesh({ 'mesh.yaml': [meshPreamble(), serviceYaml({ name: 'web', vip: vip(1), endpoints: ['127.0.0.1:9'] })].join('\n') });
});

after(async () => {
  await mesh.close();
});

function golden(name: string, actual: string): void {
  const file = path.join(HERE, 'config', `${name}.txt`);
  if (UPDATE) writeFileSync(file, actual);
  assert.ok(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 to create it, then review it`);
  assert.equal(actual, readFileSync(file, 'utf8'));
}

for (const section of CONFIG_SECTIONS) {
  test(`waypoint config ${section}`, () => golden(section, renderSection(dump, section)));
}

test('waypoint status', () => golden('status', renderStatus(true, dump)));

const live: ReadonlyArray<{ readonly name: string; readonly run: (out: (s: string) => void, err: (s: string) => void) => Promise<number>; readonly code: number; readonly out: RegExp }> = [
  { name: 'config listeners', run: (o, e) => configCommand({ admin: mesh.admin, section: 'listeners', output: 'table' }, o, e), code: 0, out: /default\/web\s+80 \(http\)/ },
  { name: 'config clusters -o json', run: (o, e) => configCommand({ admin: mesh.admin, section: 'clusters', output: 'json' }, o, e), code: 0, out: /"id": "inbound-vip\|80\|http\|web\.default\.svc\.cluster\.local"/ },
  { name: 'status', run: (o, e) => statusCommand({ admin: mesh.admin }, o, e), code: 0, out: /READY[\s\S]*default\/web\s+yes/ },
  { name: 'unreachable admin', run: (o, e) => statusCommand({ admin: '127.0.0.1:9' }, o, e), code: 1, out: /^$/ },
];

for (const c of live) {
  test(`against a live waypoint: ${c.name}`, async () => {
    let out = '';
    let err = '';
    const code = await c.run((s) => { out += s; }, (s) => { err += s; });
    assert.equal(code, c.code, err);
    assert.match(out, c.out);
    if (c.code !== 0) assert.match(err, /no waypoint admin server at 127\.0\.0\.1:9/);
  });
}
