// One access log destination (a file, or /dev/stdout): lines are batched per event-loop turn and written
// through an async fs stream, so logging never blocks a request. When the disk or pipe falls behind, lines
// are dropped and counted rather than buffered without bound.
import { createWriteStream, type WriteStream } from 'node:fs';

/** Batches above this size are written at once instead of waiting for the end of the turn. */
const FLUSH_BYTES = 64 * 1024;
/** Lines pending in the stream beyond this are dropped (and counted). */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

export class AccessLogSink {
  readonly path: string;
  readonly #stream: WriteStream;
  readonly #onError: (err: Error) => void;
  #batch: string[] = [];
  #batchBytes = 0;
  #scheduled = false;
  #failed = false;
  written = 0;
  dropped = 0;

  constructor(path: string, onError: (err: Error) => void) {
    this.path = path;
    this.#onError = onError;
    this.#stream = createWriteStream(path, { flags: 'a' });
    this.#stream.on('error', (err) => {
      if (!this.#failed) this.#onError(err);
      this.#failed = true;
    });
  }

  write(line: string): void {
    if (this.#failed || this.#stream.writableLength + this.#batchBytes > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.#batch.push(line);
    this.#batchBytes += line.length;
    this.written++;
    if (this.#batchBytes >= FLUSH_BYTES) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#batch.length === 0 || this.#failed) return;
    const text = this.#batch.length === 1 ? (this.#batch[0] as string) : this.#batch.join('');
    this.#batch = [];
    this.#batchBytes = 0;
    this.#stream.write(text);
  };

  /** Writes what is pending and closes the file. */
  close(): Promise<void> {
    this.#flush();
    if (this.#failed || this.#stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#stream.end(() => resolve());
      this.#stream.once('error', () => resolve());
    });
  }
}
