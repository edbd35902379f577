// A ConfigSource wrapper that remembers a fingerprint of what it last loaded (every resource object and
// diagnostic), so cluster workers can show the primary they compiled the same generation from the same bytes.
import { createHash } from 'node:crypto';
import type { ConfigSource, LoadedConfig } from '../config/pipeline.js';

export interface WatchableSource extends ConfigSource {
  watch(onChange: () => void): { close(): void };
}

export class FingerprintedSource implements WatchableSource {
  readonly #inner: WatchableSource;
  #fingerprint = '';

  constructor(inner: WatchableSource) {
    this.#inner = inner;
  }

  get fingerprint(): string {
    return this.#fingerprint;
  }

  async load(): Promise<LoadedConfig> {
    const loaded = await this.#inner.load();
    const hash = createHash('sha256');
    for (const r of loaded.resources) hash.update(JSON.stringify(r.object)).update('\0');
    for (const d of loaded.diagnostics) hash.update(`${d.file ?? ''}:${d.message}`).update('\0');
    this.#fingerprint = hash.digest('hex').slice(0, 16);
    return loaded;
  }

  watch(onChange: () => void): { close(): void } {
    return this.#inner.watch(onChange);
  }
}
