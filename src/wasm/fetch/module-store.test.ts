// Tests for the module store against a real HTTP server on loopback and real files: sha256 verification with
// Istio's message, unreachable urls and HTTP statuses, the digest-keyed disk cache, retries, tar extraction.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { silentLogger } from '../../observability/logger.js';
import type { WasmModuleState } from '../wasm-plugin-spec.js';
import { parseModuleLocation } from './module-location.js';
import type { WasmModuleRequest } from './module-request.js';
import { WasmModuleStore } from './module-store.js';
import { extractFromTar } from './tar-extract.js';

const MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const OTHER = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00]);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let server: http.Server;
let base: string;
let dir: string;
const hits = new Map<string, number>();
let flaky = 0;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wasm-store-'));
  await writeFile(path.join(dir, 'm.wasm'), MODULE);
  server = http.createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    if (req.url === '/m.wasm') res.end(MODULE);
    else if (req.url === '/other.wasm') res.end(OTHER);
    else if (req.url === '/text') res.end('not a wasm module');
    else if (req.url === '/flaky.wasm' && flaky-- > 0) { res.statusCode = 500; res.end(); }
    else if (req.url === '/flaky.wasm') res.end(MODULE);
    else if (req.url === '/moved') { res.statusCode = 302; res.setHeader('location', '/m.wasm'); res.end(); }
    else { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

function request(url: string, sha256?: string, plugin = 'ns/p'): WasmModuleRequest {
  return { fetchKey: `${url}|${sha256 ?? ''}|${plugin}`, plugin, location: parseModuleLocation(url), sha256, reuseCached: true };
}

/** Reconciles one request and waits for the store to report a settled state. */
async function resolve(store: WasmModuleStore, changes: { count: number }, req: WasmModuleRequest): Promise<WasmModuleState> {
  const before = changes.count;
  store.reconcile([req]);
  while (changes.count === before) await new Promise((r) => setTimeout(r, 5));
  return store.state(req);
}

function newStore(cacheDir: string, retryMs = 60_000) {
  const changes = { count: 0 };
  const store = new WasmModuleStore({ cacheDir, log: silentLogger, retryMs, timeoutMs: 2000, onChange: () => { changes.count++; } });
  return { store, changes };
}

const cases = [
  { name: 'http module', url: () => `${base}/m.wasm`, sha256: undefined, expect: { kind: 'ready', sha256: sha(MODULE) } },
  { name: 'http module pinned by its sha256', url: () => `${base}/m.wasm`, sha256: sha(MODULE), expect: { kind: 'ready', sha256: sha(MODULE) } },
  { name: 'http redirect followed', url: () => `${base}/moved`, sha256: undefined, expect: { kind: 'ready', sha256: sha(MODULE) } },
  { name: 'file module', url: () => `file://${dir}/m.wasm`, sha256: undefined, expect: { kind: 'ready', sha256: sha(MODULE) } },
  { name: 'wrong sha256: both digests named', url: () => `${base}/other.wasm`, sha256: sha(MODULE), expect: { kind: 'failed', reason: new RegExp(`module downloaded from .*/other.wasm has checksum ${sha(OTHER)}, which does not match: ${sha(MODULE)}`) } },
  { name: 'HTTP 404', url: () => `${base}/missing.wasm`, sha256: undefined, expect: { kind: 'failed', reason: /answered HTTP 404/ } },
  { name: 'not a Wasm binary', url: () => `${base}/text`, sha256: undefined, expect: { kind: 'failed', reason: /is invalid/ } },
  { name: 'unreachable url', url: () => 'http://127.0.0.1:1/m.wasm', sha256: undefined, expect: { kind: 'failed', reason: /is unreachable: .*ECONNREFUSED/ } },
  { name: 'missing file', url: () => `file://${dir}/nope.wasm`, sha256: undefined, expect: { kind: 'failed', reason: /cannot read the module file: .*ENOENT/ } },
] as const;

for (const c of cases) {
  test(`module store: ${c.name}`, async () => {
    const { store, changes } = newStore(path.join(dir, `cache-${c.name.replace(/\W/g, '')}`));
    try {
      const state = await resolve(store, changes, request(c.url(), c.sha256));
      assert.equal(state.kind, c.expect.kind, JSON.stringify(state.kind === 'failed' ? state.reason : state.kind));
      if (state.kind === 'ready' && 'sha256' in c.expect) assert.equal(state.sha256, c.expect.sha256);
      if (state.kind === 'failed' && 'reason' in c.expect) assert.match(state.reason, c.expect.reason);
    } finally {
      await store.close();
    }
  });
}

test('module store: a pinned module is served from the disk cache without a download', async () => {
  const cacheDir = path.join(dir, 'shared-cache');
  const first = newStore(cacheDir);
  await resolve(first.store, first.changes, request(`${base}/m.wasm`, sha(MODULE)));
  await first.store.close();
  const hitsBefore = hits.get('/m.wasm') ?? 0;
  // A url that cannot be reached: only the cache can satisfy it.
  const second = newStore(cacheDir);
  const state = await resolve(second.store, second.changes, request('http://127.0.0.1:1/m.wasm', sha(MODULE)));
  await second.store.close();
  assert.equal(state.kind, 'ready');
  assert.equal(second.store.fetches, 0);
  assert.equal(hits.get('/m.wasm') ?? 0, hitsBefore);
});

test('module store: a failed module is retried and becomes ready, with one change per state', async () => {
  flaky = 1;
  const { store, changes } = newStore(path.join(dir, 'retry-cache'), 20);
  try {
    const req = request(`${base}/flaky.wasm`);
    const failed = await resolve(store, changes, req);
    assert.equal(failed.kind, 'failed');
    while (store.state(req).kind !== 'ready') await new Promise((r) => setTimeout(r, 10));
    assert.equal(changes.count, 2);
  } finally {
    await store.close();
  }
});

test('module store: while a re-pull is in flight the plugin keeps its previous module', async () => {
  const { store, changes } = newStore(path.join(dir, 'repull-cache'));
  try {
    const v1 = request(`${base}/m.wasm`, undefined, 'ns/keep');
    await resolve(store, changes, v1);
    const v2 = { ...v1, fetchKey: `${v1.fetchKey}|v2` };
    store.reconcile([v2]);
    const during = store.state(v2);
    assert.equal(during.kind, 'ready');
    await new Promise((r) => setTimeout(r, 0));
  } finally {
    await store.close();
  }
});

function tar(entries: ReadonlyArray<[string, Uint8Array]>): Uint8Array {
  const blocks: Buffer[] = [];
  for (const [name, body] of entries) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write('0000644\0', 100);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('0', 156);
    h.write('ustar\0', 257);
    blocks.push(h, Buffer.from(body), Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return new Uint8Array(Buffer.concat(blocks));
}

test('tar: plugin.wasm found in a gzip layer, after other files and in a directory', () => {
  const archive = tar([['README', new Uint8Array([1, 2, 3])], ['./dist/plugin.wasm', MODULE]]);
  assert.deepEqual(extractFromTar(gzipSync(archive), 'plugin.wasm', 1024), MODULE);
  assert.deepEqual(extractFromTar(archive, 'plugin.wasm', 1024), MODULE);
  assert.equal(extractFromTar(tar([['other.wasm', MODULE]]), 'plugin.wasm', 1024), undefined);
  assert.throws(() => extractFromTar(archive.subarray(0, 1024 + 512 + 4), 'plugin.wasm', 1024), /truncated/);
});
