// ConfigSource over files and directories, with a watcher that triggers reloads.
import type { ConfigSource, LoadedConfig } from '../pipeline.js';
import { loadConfigFiles, watchConfigFiles } from './files.js';

export class FileSource implements ConfigSource {
  readonly #paths: ReadonlyArray<string>;

  constructor(paths: ReadonlyArray<string>) {
    this.#paths = paths;
  }

  load(): Promise<LoadedConfig> {
    return loadConfigFiles(this.#paths);
  }

  watch(onChange: () => void): { close(): void } {
    return watchConfigFiles(this.#paths, onChange, { debounceMs: 100 });
  }
}
