// The Wasm module store: resolves every module the current snapshot references, outside compile and
// asynchronously; verifies sha256 (Istio's check and words), caches by digest on disk and in memory, retries
// failures, and tells the waypoint to recompile whenever what compile would read has changed.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../observability/logger.js';
import type { WasmModuleState } from '../wasm-plugin-spec.js';
import { describeError, fetchHttpModule, type FetchLimits } from './http-fetch.js';
import { ModuleFetchError, PENDING, type WasmModuleLookup, type WasmModuleRequest } from './module-request.js';
import { pullOciModule } from './oci-client.js';

export interface WasmModuleStoreOptions {
  /** Modules by digest (`<sha256>.wasm`); default `$TMPDIR/waypoint-wasm-cache`. */
  readonly cacheDir?: string;
  /** Per download (Istio's agent default: 5 s). */
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  /** A failed module is tried again after this long while a snapshot still references it. */
  readonly retryMs?: number;
  readonly log: Logger;
  /** Called when a module became ready or failed: the caller recompiles (Waypoint.reload). */
  readonly onChange: () => void;
}

export const DEFAULT_WASM_CACHE_DIR = path.join(os.tmpdir(), 'waypoint-wasm-cache');
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

interface Entry {
  readonly request: WasmModuleRequest;
  /** The last settled result; pending until the first fetch ends. A retry keeps showing the last result. */
  state: WasmModuleState;
  inflight: Promise<void> | undefined;
  retry: NodeJS.Timeout | undefined;
}

export class WasmModuleStore implements WasmModuleLookup {
  readonly #dir: string;
  readonly #limits: Omit<FetchLimits, 'signal'>;
  readonly #retryMs: number;
  readonly #log: Logger;
  readonly #onChange: () => void;
  readonly #entries = new Map<string, Entry>();
  /** Per plugin, its last ready module: served while a re-pull (Always, changed url) is in flight, as Istio holds the old config. */
  readonly #lastReady = new Map<string, Extract<WasmModuleState, { kind: 'ready' }>>();
  readonly #abort = new AbortController();
  #closed = false;
  #fetches = 0;

  constructor(options: WasmModuleStoreOptions) {
    this.#dir = options.cacheDir ?? DEFAULT_WASM_CACHE_DIR;
    this.#limits = { timeoutMs: options.timeoutMs ?? 5000, maxBytes: options.maxBytes ?? 64 * 1024 * 1024 };
    this.#retryMs = options.retryMs ?? 30_000;
    this.#log = options.log;
    this.#onChange = options.onChange;
  }

  /** Downloads started (cache hits excluded). */
  get fetches(): number {
    return this.#fetches;
  }

  state(request: WasmModuleRequest): WasmModuleState {
    const entry = this.#entries.get(request.fetchKey);
    if (entry === undefined || entry.state.kind === 'pending') {
      const previous = this.#lastReady.get(request.plugin);
      // Only a module that satisfies this request's pin may stand in for it.
      if (previous !== undefined && (request.sha256 === undefined || request.location.kind === 'oci' || previous.sha256 === request.sha256)) return previous;
      return PENDING;
    }
    return entry.state;
  }

  /** The modules a new snapshot references: fetch the new ones, forget the ones no longer referenced. */
  reconcile(requests: ReadonlyArray<WasmModuleRequest>): void {
    if (this.#closed) return;
    const wanted = new Map(requests.map((r) => [r.fetchKey, r]));
    for (const [key, entry] of this.#entries) {
      if (wanted.has(key)) continue;
      if (entry.retry !== undefined) clearTimeout(entry.retry);
      this.#entries.delete(key);
    }
    const plugins = new Set(requests.map((r) => r.plugin));
    for (const plugin of this.#lastReady.keys()) if (!plugins.has(plugin)) this.#lastReady.delete(plugin);
    for (const [key, request] of wanted) {
      if (this.#entries.has(key)) continue;
      const entry: Entry = { request, state: PENDING, inflight: undefined, retry: undefined };
      this.#entries.set(key, entry);
      this.#start(entry);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    const inflight: Promise<void>[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.retry !== undefined) clearTimeout(entry.retry);
      if (entry.inflight !== undefined) inflight.push(entry.inflight);
    }
    await Promise.allSettled(inflight);
  }

  #start(entry: Entry): void {
    entry.retry = undefined;
    entry.inflight = this.#resolve(entry.request).then(
      (bytes) => this.#settle(entry, { kind: 'ready', sha256: hex(bytes), bytes }),
      (err: unknown) => this.#settle(entry, { kind: 'failed', reason: err instanceof ModuleFetchError ? err.message : `${entry.request.location.url}: ${describeError(err)}` }),
    );
  }

  #settle(entry: Entry, state: WasmModuleState): void {
    entry.inflight = undefined;
    if (this.#closed || this.#entries.get(entry.request.fetchKey) !== entry) return;
    const before = entry.state;
    entry.state = state;
    if (state.kind === 'ready') this.#lastReady.set(entry.request.plugin, state);
    else if (state.kind === 'failed') {
      this.#lastReady.delete(entry.request.plugin);
      this.#log.warn('Wasm module unavailable', { plugin: entry.request.plugin, reason: state.reason });
      entry.retry = setTimeout(() => this.#start(entry), this.#retryMs).unref();
    }
    if (!sameState(before, state)) this.#onChange();
  }

  async #resolve(request: WasmModuleRequest): Promise<Uint8Array> {
    const loc = request.location;
    const pinned = loc.kind !== 'oci' ? request.sha256 : undefined;
    if (pinned !== undefined && request.reuseCached) {
      const cached = this.#fromMemory(pinned) ?? await this.#fromDisk(pinned);
      if (cached !== undefined) return cached;
    }
    this.#fetches++;
    const limits = { ...this.#limits, signal: this.#abort.signal };
    let bytes: Uint8Array;
    if (loc.kind === 'file') {
      try {
        bytes = new Uint8Array(await readFile(loc.path));
      } catch (err) {
        throw new ModuleFetchError(`${loc.url}: cannot read the module file: ${describeError(err)}`);
      }
    } else if (loc.kind === 'http') {
      bytes = await fetchHttpModule(loc.url, limits);
    } else {
      const pulled = await pullOciModule(loc, limits);
      // Istio compares `sha256` with the image (manifest) digest for OCI urls.
      const digest = pulled.manifestDigest.slice('sha256:'.length);
      if (request.sha256 !== undefined && digest !== request.sha256) throw mismatch(loc.url, digest, request.sha256);
      bytes = pulled.module;
    }
    if (pinned !== undefined && hex(bytes) !== pinned) throw mismatch(loc.url, hex(bytes), pinned);
    // Istio's check: a Wasm binary starts with the magic number and a version (8 bytes).
    if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) throw new ModuleFetchError(`fetched Wasm binary from ${loc.url} is invalid (no Wasm magic number)`);
    await this.#toDisk(hex(bytes), bytes);
    return bytes;
  }

  #fromMemory(sha: string): Uint8Array | undefined {
    for (const e of this.#entries.values()) if (e.state.kind === 'ready' && e.state.sha256 === sha) return e.state.bytes;
    for (const s of this.#lastReady.values()) if (s.sha256 === sha) return s.bytes;
    return undefined;
  }

  async #fromDisk(sha: string): Promise<Uint8Array | undefined> {
    try {
      const bytes = new Uint8Array(await readFile(path.join(this.#dir, `${sha}.wasm`)));
      return hex(bytes) === sha ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  async #toDisk(sha: string, bytes: Uint8Array): Promise<void> {
    try {
      await mkdir(this.#dir, { recursive: true });
      const tmp = path.join(this.#dir, `.${sha}.${process.pid}.${Date.now()}.tmp`);
      await writeFile(tmp, bytes);
      await rename(tmp, path.join(this.#dir, `${sha}.wasm`));
    } catch (err) {
      // The disk cache only saves downloads; the module is still served from memory.
      this.#log.warn('cannot write the Wasm module cache', { dir: this.#dir, error: describeError(err) });
    }
  }
}

/** Istio's words (pkg/wasm/cache.go), with both digests. */
function mismatch(url: string, actual: string, expected: string): ModuleFetchError {
  return new ModuleFetchError(`module downloaded from ${url} has checksum ${actual}, which does not match: ${expected}`);
}

function hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sameState(a: WasmModuleState, b: WasmModuleState): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'ready' && b.kind === 'ready') return a.sha256 === b.sha256;
  if (a.kind === 'failed' && b.kind === 'failed') return a.reason === b.reason;
  return true;
}
