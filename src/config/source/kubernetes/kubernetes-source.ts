// ConfigSource over the Kubernetes API server: one informer per watched kind. load() waits until every
// informer has listed once (never a half-synced view), then returns the caches; watch events trigger a
// debounced reload. While the API server is slow or down the caches keep their last state, so the
// last good snapshot keeps serving.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Diagnostic } from '../../diagnostics.js';
import type { Logger } from '../../../observability/logger.js';
import type { JsonObject, KubeRest } from '../../../kubernetes/kube-rest.js';
import type { ConfigSource, LoadedConfig } from '../../pipeline.js';
import type { RawResource } from '../../resource.js';
import { type ApiResource, watchedResources } from './api-resources.js';
import { KindInformer } from './kind-informer.js';
import { objectKey, rawFromObject } from './raw-from-object.js';
import { DEFAULT_WATCH_TUNING, type WatchTuning } from './tuned-watch.js';

export interface KubernetesSourceOptions {
  readonly kc: KubeConfig;
  readonly rest: KubeRest;
  readonly log: Logger;
  /** Quiet time after the last change before a reload (a burst of events compiles once). */
  readonly debounceMs?: number;
  readonly tuning?: WatchTuning;
  readonly absentRetryMs?: number;
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly random?: () => number;
  /** The kinds to watch; watchedResources() (validate/kinds.ts + the API table) by default. */
  readonly resources?: ReadonlyArray<ApiResource>;
}

/** The objects one load() returned, by kind then `namespace/name`: what the live snapshot was built from. */
export type LoadedObjects = ReadonlyMap<string, ReadonlyMap<string, JsonObject>>;

export class KubernetesSource implements ConfigSource {
  readonly #informers: ReadonlyArray<KindInformer>;
  readonly #byKind: ReadonlyMap<string, KindInformer>;
  readonly #log: Logger;
  readonly #debounceMs: number;
  readonly #changeListeners: Array<() => void> = [];
  readonly #objectListeners: Array<(kind: string) => void> = [];
  readonly #syncWaiters: Array<() => void> = [];
  #debounce: NodeJS.Timeout | undefined;
  #pendingSince = 0;
  #loaded: LoadedObjects = new Map();
  #started = false;
  #initialSync = false;

  constructor(options: KubernetesSourceOptions) {
    this.#log = options.log;
    this.#debounceMs = options.debounceMs ?? 200;
    const random = options.random ?? Math.random;
    const deps = {
      kc: options.kc,
      rest: options.rest,
      tuning: options.tuning ?? DEFAULT_WATCH_TUNING,
      random,
      log: options.log,
      absentRetryMs: options.absentRetryMs ?? 60_000,
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      onChange: (r: ApiResource, _type: string, _obj: JsonObject, relevant: boolean) => this.#changed(r, relevant),
      onListed: (r: ApiResource) => this.#listed(r),
    };
    this.#informers = (options.resources ?? watchedResources()).map((r) => new KindInformer(r, deps));
    this.#byKind = new Map(this.#informers.map((i) => [i.resource.kind, i]));
  }

  /** The kinds being watched, in table order. */
  get kinds(): ReadonlyArray<string> {
    return this.#informers.map((i) => i.resource.kind);
  }

  get synced(): boolean {
    return this.#informers.every((i) => i.state !== 'pending');
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const i of this.#informers) i.start();
  }

  /** Resolves once every informer has listed (or found its kind absent); logs what it still waits for. */
  async waitForSync(): Promise<void> {
    this.start();
    if (this.#initialSync) return;
    const progress = setInterval(() => {
      const pending = this.#informers.filter((i) => i.state === 'pending');
      this.#log.warn('waiting for the initial list of every kind before applying any configuration', {
        pending: pending.map((i) => i.resource.kind).join(','),
        error: pending.map((i) => i.lastError).find((e) => e !== undefined),
      });
    }, 10_000);
    try {
      await new Promise<void>((resolve) => this.#syncWaiters.push(resolve));
    } finally {
      clearInterval(progress);
    }
  }

  async load(): Promise<LoadedConfig> {
    await this.waitForSync();
    const resources: RawResource[] = [];
    const loaded = new Map<string, Map<string, JsonObject>>();
    const diagnostics: Diagnostic[] = [];
    for (const informer of this.#informers) {
      const { kind, namespaced } = informer.resource;
      const byKey = new Map<string, JsonObject>();
      // Sorted by namespace/name so seq (the last tie-breaker) does not depend on event order.
      const objects = [...informer.objects()].map((o) => [objectKey(o), o] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [key, obj] of objects) {
        byKey.set(key, obj);
        resources.push(rawFromObject(obj, informer.apiVersion, kind, namespaced, resources.length));
      }
      loaded.set(kind, byKey);
      if (informer.state === 'absent') diagnostics.push(sourceDiagnostic('info', 'kind-not-served', `${kind} (${informer.resource.group || 'core'}) is not served by the API server (CRD not installed?): treated as empty, checked again periodically`));
      if (informer.lastError !== undefined) diagnostics.push(sourceDiagnostic('warning', 'watch-failing', `${kind}: ${informer.lastError}; serving the last listed state until the watch recovers`));
    }
    this.#loaded = loaded;
    return { resources, diagnostics };
  }

  /** The objects the last load() returned (what the live snapshot was compiled from, once applied). */
  get loaded(): LoadedObjects {
    return this.#loaded;
  }

  /** The newest cached object (may be newer than `loaded`), for writing status over it. */
  current(kind: string, namespace: string, name: string): JsonObject | undefined {
    return this.#byKind.get(kind)?.get(namespace, name);
  }

  /** apiVersion and table row of a watched kind. */
  resourceOf(kind: string): { readonly resource: ApiResource; readonly apiVersion: string } | undefined {
    const informer = this.#byKind.get(kind);
    return informer === undefined || informer.state === 'absent' ? undefined : { resource: informer.resource, apiVersion: informer.apiVersion };
  }

  /** Calls `onChange` (debounced) after changes that can alter the compiled config. */
  watch(onChange: () => void): { close(): void } {
    this.#changeListeners.push(onChange);
    return { close: () => this.#changeListeners.splice(this.#changeListeners.indexOf(onChange), 1) };
  }

  /** Every event after the initial sync, status-only ones included (the status writer compares). */
  onObjectChange(listener: (kind: string) => void): void {
    this.#objectListeners.push(listener);
  }

  async close(): Promise<void> {
    clearTimeout(this.#debounce);
    await Promise.all(this.#informers.map((i) => i.close()));
  }

  #listed(resource: ApiResource): void {
    if (!this.synced) return;
    if (!this.#initialSync) {
      // The initial sync just completed: load() (waiting on it) reads everything, no reload needed.
      this.#initialSync = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
      return;
    }
    // A re-list (after 410 Gone or a reconnect) may have changed anything of this kind.
    this.#changed(resource, true);
  }

  #changed(resource: ApiResource, relevant: boolean): void {
    if (!this.#initialSync) return;
    for (const l of this.#objectListeners) l(resource.kind);
    if (!relevant) return;
    // Trailing debounce, but a steady stream of events (Pod churn) still reloads every 10 quiet periods.
    if (this.#debounce !== undefined && Date.now() - this.#pendingSince >= 10 * this.#debounceMs) return;
    if (this.#debounce === undefined) this.#pendingSince = Date.now();
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      for (const l of [...this.#changeListeners]) l();
    }, this.#debounceMs);
  }
}

function sourceDiagnostic(severity: 'info' | 'warning', code: string, message: string): Diagnostic {
  return { severity, code, resource: undefined, file: 'kubernetes', doc: undefined, line: undefined, path: undefined, message };
}
