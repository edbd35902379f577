// One kind's list+watch cache (client-node ListWatch) kept alive: restarts after errors with backoff,
// re-lists on 410 Gone (ListWatch does that itself), falls back to older API versions on 404, and
// treats a kind the API server does not serve (CRD not installed) as empty until it appears.
import { ListWatch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../../observability/logger.js';
import { ApiError, type JsonObject, type KubeRest } from '../../../kubernetes/kube-rest.js';
import { type ApiResource, candidateVersions, groupVersion, resourcePath } from './api-resources.js';
import { contentFingerprint, objectKey } from './raw-from-object.js';
import { TunedWatch, type WatchTuning, WatchStalledError } from './tuned-watch.js';

export type InformerState = 'pending' | 'synced' | 'absent';

export type ChangeType = 'add' | 'update' | 'delete';

export interface InformerDeps {
  readonly kc: KubeConfig;
  readonly rest: KubeRest;
  readonly tuning: WatchTuning;
  readonly random: () => number;
  readonly log: Logger;
  /** How long to wait before asking again for a kind the API server does not serve. */
  readonly absentRetryMs: number;
  /** First restart delay after an error; doubles up to maxBackoffMs. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** `relevant` is false when only the resourceVersion or (for output-only status) the status changed. */
  readonly onChange: (resource: ApiResource, type: ChangeType, obj: JsonObject, relevant: boolean) => void;
  /** A (re-)list completed; the cache now holds the whole collection. */
  readonly onListed: (resource: ApiResource) => void;
}

type ApiObject = KubernetesObject & JsonObject;

export class KindInformer {
  readonly resource: ApiResource;
  readonly #deps: InformerDeps;
  readonly #versions: ReadonlyArray<string>;
  #versionIndex = 0;
  #lw: ListWatch<ApiObject> | undefined;
  #state: InformerState = 'pending';
  #lastError: string | undefined;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #fingerprints = new Map<string, string>();

  constructor(resource: ApiResource, deps: InformerDeps) {
    this.resource = resource;
    this.#deps = deps;
    this.#versions = candidateVersions(resource);
  }

  get state(): InformerState {
    return this.#state;
  }

  /** The apiVersion objects are read at. */
  get apiVersion(): string {
    return groupVersion(this.resource.group, this.#versions[this.#versionIndex] ?? this.#versions[0] ?? 'v1');
  }

  /** The last error of the list or watch, cleared by the next successful list or event. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  objects(): ReadonlyArray<JsonObject> {
    return this.#state === 'absent' || this.#lw === undefined ? [] : this.#lw.list();
  }

  get(namespace: string, name: string): JsonObject | undefined {
    return this.#state === 'absent' ? undefined : this.#lw?.get(name, this.resource.namespaced ? namespace : undefined);
  }

  start(): void {
    this.#begin(0);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#lw?.stop();
  }

  #begin(versionIndex: number): void {
    if (this.#closed) return;
    void this.#lw?.stop();
    this.#versionIndex = versionIndex;
    const version = this.#versions[versionIndex] ?? 'v1';
    const path = resourcePath(this.resource, version);
    const watch = new TunedWatch(this.#deps.kc, this.#deps.tuning, this.#deps.random);
    const list = async (): Promise<{ metadata: { resourceVersion: string }; items: ApiObject[] }> => {
      const result = await this.#deps.rest.list(path);
      for (const item of result.items) {
        const meta = item['metadata'];
        if (typeof meta === 'object' && meta !== null) delete (meta as JsonObject)['managedFields'];
      }
      watch.listPending = true;
      return { metadata: { resourceVersion: result.resourceVersion }, items: result.items as ApiObject[] };
    };
    const lw = new ListWatch<ApiObject>(path, watch, list, false);
    watch.onListed = () => this.#listed(lw);
    watch.onEvent = () => {
      this.#failures = 0;
      this.#lastError = undefined;
    };
    lw.on('add', (obj) => this.#change(lw, 'add', obj));
    lw.on('update', (obj) => this.#change(lw, 'update', obj));
    lw.on('delete', (obj) => this.#change(lw, 'delete', obj));
    lw.on('error', (err: unknown) => this.#error(lw, err));
    this.#lw = lw;
    lw.start().catch((err: unknown) => this.#error(lw, err));
  }

  #listed(lw: ListWatch<ApiObject>): void {
    if (lw !== this.#lw || this.#closed) return;
    const wasAbsent = this.#state === 'absent';
    this.#state = 'synced';
    this.#failures = 0;
    this.#lastError = undefined;
    if (wasAbsent) this.#deps.log.info('kind now served by the API server', { kind: this.resource.kind, apiVersion: this.apiVersion });
    this.#deps.onListed(this.resource);
  }

  #change(lw: ListWatch<ApiObject>, type: ChangeType, obj: ApiObject): void {
    if (lw !== this.#lw || this.#closed) return;
    const key = objectKey(obj);
    let relevant = true;
    if (type === 'delete') this.#fingerprints.delete(key);
    else {
      const fp = contentFingerprint(obj, this.resource.statusIsOutput);
      relevant = this.#fingerprints.get(key) !== fp;
      this.#fingerprints.set(key, fp);
    }
    this.#deps.onChange(this.resource, type, obj, relevant);
  }

  #error(lw: ListWatch<ApiObject>, err: unknown): void {
    if (lw !== this.#lw || this.#closed || this.#timer !== undefined) return;
    const status = err instanceof ApiError ? err.statusCode : (err as { statusCode?: number }).statusCode;
    const kind = this.resource.kind;
    if (status === 404) {
      // Not served at this version: try an older one, else the kind is absent (its CRD is not installed).
      if (this.#versionIndex + 1 < this.#versions.length) {
        this.#begin(this.#versionIndex + 1);
        return;
      }
      if (this.#state !== 'absent') this.#deps.log.info('kind not served by the API server (CRD not installed?): treated as empty', { kind, retry_ms: this.#deps.absentRetryMs });
      this.#state = 'absent';
      this.#fingerprints.clear();
      this.#lastError = undefined;
      void lw.stop();
      // Absent counts as listed (empty): startup does not wait for CRDs that are not installed.
      this.#deps.onListed(this.resource);
      this.#schedule(this.#deps.absentRetryMs, () => this.#begin(0));
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    const delay = Math.min(this.#deps.maxBackoffMs, this.#deps.backoffMs * 2 ** this.#failures) * (0.75 + this.#deps.random() / 2);
    this.#failures++;
    if (err instanceof WatchStalledError) this.#deps.log.debug('watch restarted', { kind, reason: message });
    else {
      this.#lastError = message;
      this.#deps.log.warn('list/watch failed: serving the last listed state and retrying', { kind, error: message, retry_ms: Math.round(delay) });
    }
    this.#schedule(delay, () => lw.start().catch((e: unknown) => this.#error(lw, e)));
  }

  #schedule(ms: number, run: () => void): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) run();
    }, ms);
  }
}
