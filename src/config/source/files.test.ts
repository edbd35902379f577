// Tests for loading config files and directories from disk and for watching them for changes.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfigFiles, watchConfigFiles } from './files.js';

const service = (name: string): string => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n`;

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-files-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files given as `relative/path: content`, creating directories on the way. */
async function layout(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
}

test('directories are read recursively in name order, keeping only config extensions', async (t) => {
  const dir = await tempDir(t);
  await layout(dir, {
    'b.yaml': service('b') + '---\n' + service('b2'),
    'a.yml': service('a'),
    'notes.txt': service('ignored-txt'),
    'README.md': '# not config',
    '.hidden.yaml': service('ignored-hidden'),
    '.git/config.yaml': service('ignored-dot-dir'),
    'sub/c.JSON': JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' } }),
    'sub/zz/d.yaml': service('d'),
    'sub/zz/d.yaml~': service('ignored-backup'),
    'sub2/e.yaml': service('e'),
  });
  const { resources, diagnostics } = await loadConfigFiles([dir]);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(
    resources.map((r) => [r.metadata.name, path.relative(dir, r.origin.file), r.origin.doc, r.seq]),
    [
      ['a', 'a.yml', 0, 0],
      ['b', 'b.yaml', 0, 1],
      ['b2', 'b.yaml', 1, 2],
      ['c', path.join('sub', 'c.JSON'), 0, 3],
      ['d', path.join('sub', 'zz', 'd.yaml'), 0, 4],
      ['e', path.join('sub2', 'e.yaml'), 0, 5],
    ],
  );
});

test('paths keep the order given, explicit files are read whatever their extension', async (t) => {
  const dir = await tempDir(t);
  await layout(dir, { 'z.txt': service('explicit'), 'conf/a.yaml': service('a'), 'list.json': '[]' });
  const { resources, diagnostics } = await loadConfigFiles([path.join(dir, 'z.txt'), path.join(dir, 'conf'), path.join(dir, 'list.json')]);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resources.map((r) => [r.metadata.name, r.seq]), [['explicit', 0], ['a', 1]]);
  assert.equal(resources[0]?.origin.file, path.join(dir, 'z.txt'));
});

test('JSON files may hold an array of objects', async (t) => {
  const dir = await tempDir(t);
  const items = ['p', 'q'].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name } }));
  await layout(dir, { 'all.json': JSON.stringify(items, null, 2), 'one.json': JSON.stringify(items[0]) });
  const { resources, diagnostics } = await loadConfigFiles([dir]);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resources.map((r) => [r.metadata.name, path.basename(r.origin.file), r.origin.line]), [
    ['p', 'all.json', 2],
    ['q', 'all.json', 9],
    ['p', 'one.json', 1],
  ]);
});

test('missing paths are diagnostics and do not stop the other paths', async (t) => {
  const dir = await tempDir(t);
  await layout(dir, { 'a.yaml': service('a') });
  const missing = path.join(dir, 'nope.yaml');
  const { resources, diagnostics } = await loadConfigFiles([missing, path.join(dir, 'a.yaml'), path.join(dir, 'a.yaml', 'x')]);
  assert.deepEqual(resources.map((r) => r.metadata.name), ['a']);
  assert.deepEqual(
    diagnostics.map((d) => [d.severity, d.code, d.file, d.line, d.resource]),
    [
      ['error', 'file-unreadable', missing, undefined, undefined],
      ['error', 'file-unreadable', path.join(dir, 'a.yaml', 'x'), undefined, undefined],
    ],
  );
  assert.match(diagnostics[0]?.message ?? '', /no such file or directory; check the path/);
  assert.match(diagnostics[1]?.message ?? '', /not a directory/);
});

test('YAML problems in files carry the file path', async (t) => {
  const dir = await tempDir(t);
  await layout(dir, { 'a.yaml': `${service('a')}---\nkind: [\n`, 'b.yaml': service('b') });
  const { resources, diagnostics } = await loadConfigFiles([dir]);
  assert.deepEqual(resources.map((r) => [r.metadata.name, r.seq]), [['a', 0], ['b', 1]]);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.file, d.doc]), [['yaml-syntax', path.join(dir, 'a.yaml'), 1]]);
});

test('symlinks are followed, cycles and duplicates are read once, dangling links are reported', async (t) => {
  const dir = await tempDir(t);
  await layout(dir, { 'real/a.yaml': service('a'), 'other/b.yaml': service('b') });
  await symlink(path.join(dir, 'other'), path.join(dir, 'real', 'linked')); // directory link
  await symlink(dir, path.join(dir, 'real', 'loop')); // cycle back to the root
  await symlink(path.join(dir, 'gone.yaml'), path.join(dir, 'real', 'broken.yaml'));
  await symlink(path.join(dir, 'gone'), path.join(dir, 'real', 'broken-unrelated'));
  const { resources, diagnostics } = await loadConfigFiles([path.join(dir, 'real'), path.join(dir, 'real', 'a.yaml')]);
  assert.deepEqual(resources.map((r) => [r.metadata.name, path.relative(dir, r.origin.file)]), [
    ['a', path.join('real', 'a.yaml')],
    ['b', path.join('real', 'linked', 'b.yaml')],
  ]);
  assert.deepEqual(diagnostics.map((d) => [d.code, path.relative(dir, d.file ?? '')]), [
    ['file-unreadable', path.join('real', 'broken.yaml')],
  ]);
  assert.match(diagnostics[0]?.message ?? '', /symbolic link to a path that does not exist/);
});

test('unreadable files are diagnostics', { skip: process.getuid?.() === 0 ? 'root can read anything' : false }, async (t) => {
  const dir = await tempDir(t);
  await layout(dir, { 'secret.yaml': service('s'), 'ok.yaml': service('ok') });
  await chmod(path.join(dir, 'secret.yaml'), 0o000);
  const { resources, diagnostics } = await loadConfigFiles([dir]);
  assert.deepEqual(resources.map((r) => r.metadata.name), ['ok']);
  assert.deepEqual(diagnostics.map((d) => [d.code, path.basename(d.file ?? '')]), [['file-unreadable', 'secret.yaml']]);
  assert.match(diagnostics[0]?.message ?? '', /permission denied/);
});

/** Counts onChange calls and lets a test wait for the next one. */
function changes(): { onChange: () => void; count: () => number; next: (ms?: number) => Promise<boolean> } {
  let n = 0;
  let waiters: Array<() => void> = [];
  return {
    onChange: () => {
      n++;
      for (const w of waiters) w();
      waiters = [];
    },
    count: () => n,
    // Resolves true on the next call, false if none comes within `ms`.
    next: (ms = 1000) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        waiters.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      }),
  };
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const watchCases: Array<{ name: string; act: (dir: string) => Promise<void> }> = [
  { name: 'writing a new file', act: (dir) => writeFile(path.join(dir, 'new.yaml'), service('n')) },
  { name: 'modifying a file', act: (dir) => writeFile(path.join(dir, 'a.yaml'), service('changed')) },
  { name: 'deleting a file', act: (dir) => rm(path.join(dir, 'a.yaml')) },
  {
    name: 'renaming a file into place',
    act: async (dir) => {
      await writeFile(path.join(dir, '.a.yaml.tmp'), service('renamed'));
      await rename(path.join(dir, '.a.yaml.tmp'), path.join(dir, 'a.yaml'));
    },
  },
  { name: 'writing in a nested directory', act: (dir) => writeFile(path.join(dir, 'sub', 'b.yaml'), service('b2')) },
];
for (const c of watchCases) {
  test(`watching a directory: ${c.name} calls onChange`, async (t) => {
    const dir = await tempDir(t);
    await layout(dir, { 'a.yaml': service('a'), 'sub/b.yaml': service('b') });
    const seen = changes();
    const watcher = watchConfigFiles([dir], seen.onChange, { debounceMs: 20 });
    t.after(() => watcher.close());
    const called = seen.next();
    await c.act(dir);
    assert.equal(await called, true);
  });
}

test('watching a directory: edits after a file was replaced by rename are still seen', async (t) => {
  // Node 20's `recursive: true` on Linux goes deaf here, which is why each directory gets its own watcher.
  const dir = await tempDir(t);
  await layout(dir, { 'sub/a.yaml': service('a') });
  const seen = changes();
  const watcher = watchConfigFiles([dir], seen.onChange, { debounceMs: 20 });
  t.after(() => watcher.close());
  const file = path.join(dir, 'sub', 'a.yaml');
  let called = seen.next();
  await writeFile(`${file}.tmp`, service('a2'));
  await rename(`${file}.tmp`, file);
  assert.equal(await called, true, 'rename into place');
  await settle(100);
  called = seen.next();
  await writeFile(file, service('a3'));
  assert.equal(await called, true, 'in-place edit after rename');
});

test('watching a file: rename into place, later in-place edits, deletion; siblings are ignored', async (t) => {
  const dir = await tempDir(t);
  await layout(dir, { 'a.yaml': service('a'), 'other.yaml': service('o') });
  const file = path.join(dir, 'a.yaml');
  const seen = changes();
  const watcher = watchConfigFiles([file], seen.onChange, { debounceMs: 20 });
  t.after(() => watcher.close());

  let called = seen.next(300);
  await writeFile(path.join(dir, 'other.yaml'), service('o2'));
  assert.equal(await called, false, 'a sibling file is not watched');

  called = seen.next();
  await writeFile(`${file}.tmp`, service('a2'));
  await rename(`${file}.tmp`, file);
  assert.equal(await called, true, 'rename into place');

  // After an editor replaced the file, edits to the new file must still be seen.
  called = seen.next();
  await writeFile(file, service('a3'));
  assert.equal(await called, true, 'in-place edit after rename');

  called = seen.next();
  await rm(file);
  assert.equal(await called, true, 'deletion');

  called = seen.next();
  await writeFile(file, service('a4'));
  assert.equal(await called, true, 'recreation');
});

test('a directory created after watching starts is watched too', async (t) => {
  const dir = await tempDir(t);
  const seen = changes();
  const watcher = watchConfigFiles([dir], seen.onChange, { debounceMs: 20 });
  t.after(() => watcher.close());
  let called = seen.next();
  await mkdir(path.join(dir, 'late'));
  assert.equal(await called, true);
  await settle(100);
  called = seen.next();
  await writeFile(path.join(dir, 'late', 'x.yaml'), service('x'));
  assert.equal(await called, true);
});

test('a watched directory that is deleted and recreated keeps being watched', async (t) => {
  const root = await tempDir(t);
  const dir = path.join(root, 'conf');
  await layout(dir, { 'a.yaml': service('a') });
  const seen = changes();
  const watcher = watchConfigFiles([dir], seen.onChange, { debounceMs: 20 });
  t.after(() => watcher.close());
  let called = seen.next();
  await rm(dir, { recursive: true });
  assert.equal(await called, true);
  await settle(100);
  await layout(dir, { 'b.yaml': service('b') });
  await settle(100);
  called = seen.next();
  await writeFile(path.join(dir, 'b.yaml'), service('b2'));
  assert.equal(await called, true);
});

test('bursts of changes are debounced into one call', async (t) => {
  const dir = await tempDir(t);
  const seen = changes();
  const watcher = watchConfigFiles([dir], seen.onChange, { debounceMs: 100 });
  t.after(() => watcher.close());
  for (let i = 0; i < 5; i++) await writeFile(path.join(dir, `f${i}.yaml`), service(`f${i}`));
  await settle(400);
  assert.equal(seen.count(), 1);
});

test('close() stops callbacks, including one already pending', async (t) => {
  const dir = await tempDir(t);
  const seen = changes();
  const watcher = watchConfigFiles([dir, path.join(dir, 'missing', 'x.yaml')], seen.onChange, { debounceMs: 100 });
  const called = seen.next();
  await writeFile(path.join(dir, 'a.yaml'), service('a'));
  assert.equal(await called, true, 'the watcher works before close');
  await writeFile(path.join(dir, 'b.yaml'), service('b'));
  await settle(30); // the event has arrived, the debounced call has not fired yet
  watcher.close();
  await writeFile(path.join(dir, 'c.yaml'), service('c'));
  await settle(300);
  assert.equal(seen.count(), 1);
  watcher.close(); // idempotent
});
