// ConfigSource over files and directories, with a watcher that triggers reloads.
import type { ConfigSource, LoadedConfig } from '../pipeline.js';
import { loadConfigFiles, watchConfigFiles } from './files.js';

export class FileSource implements ConfigSource {
  readonly #paths: ReadonlyArray<string>;
  readonly #watchOnly: ReadonlyArray<string>;

  /** `watchOnly` files (the mesh config) trigger reloads but are not read as resources. */
  constructor(paths: ReadonlyArray<string>, watchOnly: ReadonlyArray<string> = []) {
    this.#paths = paths;
    this.#watchOnly = watchOnly;
  }

  load(): Promise<LoadedConfig> {
    return loadConfigFiles(this.#paths);
  }

  watch(onChange: () => void): { close(): void } {
    return watchConfigFiles([...this.#paths, ...this.#watchOnly], onChange, { debounceMs: 100 });
  }
}
