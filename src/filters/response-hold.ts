// The upstream response body while a response-headers phase is paused: chunks (and the end of the body)
// are kept, bounded by Envoy's buffer limit, and replayed once the head goes out. Past the limit the
// response is answered 500 `response_payload_too_large`, as Envoy does while the head is still unsent.
import { BODY_BUFFER_LIMIT_BYTES } from './body-pipeline.js';

export class ResponseHold {
  readonly chunks: Buffer[] = [];
  ended = false;
  #bytes = 0;
  #overflowed = false;
  readonly #limit: number;
  readonly #onOverflow: () => void;

  constructor(onOverflow: () => void, limit = BODY_BUFFER_LIMIT_BYTES) {
    this.#onOverflow = onOverflow;
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    if (this.#overflowed) return;
    this.chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes > this.#limit) {
      this.#overflowed = true;
      this.chunks.length = 0;
      this.#onOverflow();
    }
  }

  end(): void {
    this.ended = true;
  }
}
