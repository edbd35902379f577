// FileSource: config paths are loaded as resources; watch-only paths (the mesh config) only trigger reloads.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FileSource } from './file-source.js';

test('a plain MeshConfig file given as watch-only is not read as a resource', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-filesource-'));
  const configDir = path.join(dir, 'config');
  const mesh = path.join(dir, 'mesh.yaml');
  try {
    await writeFile(mesh, 'accessLogFile: /dev/stdout\nrootNamespace: istio-system\n');
    await mkdir(configDir);
    await writeFile(path.join(configDir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n');
    const loaded = await new FileSource([configDir], [mesh]).load();
    assert.deepEqual(loaded.resources.map((r) => `${r.kind} ${r.metadata.name}`), ['Namespace apps']);
    assert.deepEqual(loaded.diagnostics, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a watch-only file triggers a reload when it changes', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-filesource-'));
  const mesh = path.join(dir, 'mesh.yaml');
  const configDir = path.join(dir, 'config');
  await mkdir(configDir);
  await writeFile(mesh, 'accessLogFile: ""\n');
  let changes = 0;
  const watcher = new FileSource([configDir], [mesh]).watch(() => changes++);
  try {
    await new Promise((r) => setTimeout(r, 100));
    await writeFile(mesh, 'accessLogFile: /dev/stdout\n');
    const deadline = Date.now() + 3000;
    while (changes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(changes > 0, 'mesh config change was not noticed');
  } finally {
    watcher.close();
    await rm(dir, { recursive: true, force: true });
  }
});
