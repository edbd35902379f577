// The control loop: load sources → compile → swap. A resource whose new version is rejected keeps
// serving its previous version (as an API server refuses a bad update); if nothing servable compiles,
// the last good snapshot stays live.
import { compile, type CompileOptions } from './compile/index.js';
import { type Diagnostic, sortDiagnostics } from './diagnostics.js';
import type { RawResource } from './resource.js';
import { loadMeshConfig } from './source/mesh-config-file.js';
import type { SnapshotStore } from './store.js';
import type { JwksResolver } from '../security/jwt/jwks-resolver.js';
import type { WasmCompileOptions } from './compile/wasm-plugins.js';
import { TlsFileReader } from '../upstream/tls/tls-files.js';

export interface LoadedConfig {
  readonly resources: ReadonlyArray<RawResource>;
  readonly diagnostics: ReadonlyArray<Diagnostic>;
}

export interface ConfigSource {
  load(): Promise<LoadedConfig>;
}

export type ReloadOutcome =
  | { readonly kind: 'applied'; readonly version: number; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly kind: 'kept-last-good'; readonly diagnostics: ReadonlyArray<Diagnostic> };

export interface PipelineOptions {
  readonly waypoint: string | undefined;
  readonly clusterDomain: string;
  /** `--mesh-config` file, re-read on every reload; Istio's defaults when undefined. */
  readonly meshConfigFile: string | undefined;
  /** Runtime JWKS cache handed to every compile (CompileOptions.jwks). */
  readonly jwks?: JwksResolver;
  /** Wasm module store and host handed to every compile (CompileOptions.wasm). */
  readonly wasm?: WasmCompileOptions;
}

export class ConfigPipeline {
  readonly #source: ConfigSource;
  readonly #store: SnapshotStore;
  readonly #options: PipelineOptions;
  #lastGood: ReadonlyArray<RawResource> = [];
  #version = 0;
  #lastDiagnostics: ReadonlyArray<Diagnostic> = [];
  readonly #tlsFiles = new TlsFileReader();

  constructor(source: ConfigSource, store: SnapshotStore, options: PipelineOptions) {
    this.#source = source;
    this.#store = store;
    this.#options = options;
  }

  get diagnostics(): ReadonlyArray<Diagnostic> {
    return this.#lastDiagnostics;
  }

  async reload(): Promise<ReloadOutcome> {
    const loaded = await this.#source.load();
    const mesh = await loadMeshConfig(this.#options.meshConfigFile);
    const extra: Diagnostic[] = [...mesh.diagnostics];
    let resources = withBrokenFilesKept(loaded, this.#lastGood, extra);
    // DestinationRule TLS files, read here so compile stays pure (also those of versions kept from the last good load).
    const tlsFiles = await this.#tlsFiles.read([...resources, ...this.#lastGood]);
    const options: CompileOptions = { waypoint: this.#options.waypoint, clusterDomain: this.#options.clusterDomain, mesh: mesh.config, version: this.#version + 1, tlsFiles, ...(this.#options.jwks === undefined ? {} : { jwks: this.#options.jwks }), ...(this.#options.wasm === undefined ? {} : { wasm: this.#options.wasm }) };
    let result = compile(resources, options);
    if (result.rejected.length > 0 && this.#lastGood.length > 0) {
      const kept = keepPreviousVersions(resources, result.rejected, this.#lastGood, extra);
      if (kept !== resources) {
        resources = kept;
        const retry = compile(resources, options);
        // Diagnostics of the first pass name what was wrong with the new versions; keep them.
        result = retry.ok ? { ...retry, diagnostics: [...result.diagnostics.filter((d) => d.severity === 'error'), ...retry.diagnostics] } : retry;
      }
    }
    const diagnostics = sortDiagnostics(dedupe([...loaded.diagnostics, ...extra, ...result.diagnostics]));
    this.#lastDiagnostics = diagnostics;
    if (!result.ok) return { kind: 'kept-last-good', diagnostics };
    this.#version++;
    this.#lastGood = resources;
    this.#store.swap(Object.freeze({ ...result.snapshot, diagnostics: Object.freeze(diagnostics) }));
    return { kind: 'applied', version: this.#version, diagnostics };
  }
}

const FILE_ERROR_CODES = new Set(['yaml-syntax', 'file-unreadable']);

/** A file that no longer parses keeps contributing the resources it had at the last good load. */
function withBrokenFilesKept(loaded: LoadedConfig, lastGood: ReadonlyArray<RawResource>, out: Diagnostic[]): ReadonlyArray<RawResource> {
  const broken = new Set<string>();
  for (const d of loaded.diagnostics) if (d.severity === 'error' && d.file !== undefined && FILE_ERROR_CODES.has(d.code)) broken.add(d.file);
  if (broken.size === 0) return loaded.resources;
  const kept = lastGood.filter((r) => broken.has(r.origin.file));
  if (kept.length === 0) return loaded.resources;
  for (const file of broken) {
    if (!kept.some((r) => r.origin.file === file)) continue;
    out.push({ severity: 'warning', code: 'kept-previous', resource: undefined, file, doc: undefined, line: undefined, path: undefined,
      message: 'this file has errors: serving the resources it held at the last successful load until it is fixed' });
  }
  return [...loaded.resources.filter((r) => !broken.has(r.origin.file) || !kept.some((k) => k.origin.file === r.origin.file)), ...kept];
}

function identity(r: RawResource): string {
  return `${r.kind}\u0000${r.metadata.namespace}\u0000${r.metadata.name}`;
}

/** Rejected resources that had a good previous version are replaced by it. */
function keepPreviousVersions(resources: ReadonlyArray<RawResource>, rejected: ReadonlyArray<RawResource>, lastGood: ReadonlyArray<RawResource>, out: Diagnostic[]): ReadonlyArray<RawResource> {
  const previous = new Map(lastGood.map((r) => [identity(r), r]));
  const replace = new Map<RawResource, RawResource>();
  for (const r of rejected) {
    const prev = previous.get(identity(r));
    if (prev === undefined || prev === r) continue;
    replace.set(r, prev);
    out.push({ severity: 'warning', code: 'kept-previous', resource: `${r.kind} ${r.metadata.namespace === '' ? '' : `${r.metadata.namespace}/`}${r.metadata.name}`, file: r.origin.file, doc: r.origin.doc, line: r.origin.line, path: undefined,
      message: 'the new version is rejected (see the errors above): serving the previous version until it is fixed' });
  }
  if (replace.size === 0) return resources;
  return resources.map((r) => replace.get(r) ?? r);
}

function dedupe(diagnostics: ReadonlyArray<Diagnostic>): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = JSON.stringify(d);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
