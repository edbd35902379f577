// The downstream request body as the upstream side consumes it: streamed to the current attempt with
// backpressure, kept up to a bound so a retry can replay it, and copied to mirrors that may never slow
// the primary (a mirror that falls too far behind is dropped).
import { Readable } from 'node:stream';

/** Envoy's default buffer limit (1 MiB): a body larger than this is not replayed, so not retried. */
export const REPLAY_LIMIT_BYTES = 1024 * 1024;
/** How far a mirror may lag behind the primary before its copy is abandoned. */
export const MIRROR_LAG_LIMIT_BYTES = 1024 * 1024;

export class ReplayBody {
  readonly #source: Readable;
  readonly #limit: number;
  /** Chunks seen so far while replayable; null once the body outgrew the limit or retries are over. */
  #chunks: Buffer[] | null = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined = undefined;
  #current: Readable | undefined = undefined;
  #taps: Readable[] = [];

  constructor(source: Readable, limit: number) {
    this.#source = source;
    this.#limit = limit;
    source.on('data', this.#onData);
    source.once('end', this.#onEnd);
    source.once('error', this.#onError);
  }

  /** Whether a new attempt can still get the whole body. */
  get replayable(): boolean {
    return this.#chunks !== null && this.#error === undefined;
  }

  /**
   * The body for a new attempt: what was buffered, then the rest as it arrives. The previous attempt's
   * stream stops receiving chunks. Undefined when the body can no longer be replayed.
   */
  attempt(): Readable | undefined {
    const chunks = this.#chunks;
    if (chunks === null || this.#error !== undefined) return undefined;
    const stream: Readable = new Readable({
      read: () => {
        if (this.#current === stream) this.#source.resume();
      },
      destroy: (err, cb) => {
        if (this.#current === stream) {
          this.#current = undefined;
          // No consumer until the next attempt: stop reading rather than buffer without bound.
          this.#source.pause();
        }
        cb(err);
      },
    });
    // The consumer listens for errors only once it starts sending; until then a downstream error must not
    // become an uncaught exception.
    stream.on('error', ignore);
    for (const c of chunks) stream.push(c);
    if (this.#ended) stream.push(null);
    this.#current = stream;
    return stream;
  }

  /** A copy of the body for a mirror, or undefined when its start is no longer available. */
  tap(): Readable | undefined {
    const chunks = this.#chunks;
    if (chunks === null) return undefined;
    const tap = new Readable({
      read: () => undefined,
      destroy: (err, cb) => {
        this.#taps = this.#taps.filter((t) => t !== tap);
        cb(err);
      },
    });
    tap.on('error', ignore);
    for (const c of chunks) tap.push(c);
    if (this.#ended) tap.push(null);
    else this.#taps.push(tap);
    return tap;
  }

  /** No more retries (a response was committed): stop keeping chunks; streaming continues. */
  release(): void {
    this.#chunks = null;
  }

  readonly #onData = (chunk: Buffer): void => {
    const chunks = this.#chunks;
    if (chunks !== null) {
      this.#buffered += chunk.length;
      if (this.#buffered > this.#limit) this.#chunks = null;
      else chunks.push(chunk);
    }
    for (const tap of this.#taps) {
      // A mirror must never slow the primary: past the lag limit its copy is abandoned.
      if (tap.readableLength > MIRROR_LAG_LIMIT_BYTES) tap.destroy();
      else tap.push(chunk);
    }
    const current = this.#current;
    if (current === undefined) this.#source.pause();
    else if (!current.push(chunk)) this.#source.pause();
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#current?.push(null);
    for (const tap of this.#taps) tap.push(null);
    this.#taps = [];
  };

  readonly #onError = (err: Error): void => {
    this.#error = err;
    this.#current?.destroy(err);
    for (const tap of [...this.#taps]) tap.destroy();
  };
}

function ignore(): void {}
