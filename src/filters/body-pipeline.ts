// Runs body phases (request or response) over the filters of a chain that have one. Each such filter is a
// stage with its own BodyBuffer: a chunk enters stage 0; a stage that answers `continue` passes what it
// holds to the next stage, one that answers `hold` keeps it (Envoy's StopIterationAndBuffer) until a later
// chunk, the end of the body or `resume`. Held bytes are bounded by Envoy's default buffer limit.
import type { LocalReply } from '../errors/local-reply.js';
import type { HttpExchange } from '../proxy/http-exchange.js';
import { BodyBuffer } from './body-buffer.js';
import type { BodyOutcome, FilterChain, HttpFilter } from './types.js';

/** Envoy's default per-stream buffer limit (1 MiB): a held body larger than this fails the request. */
export const BODY_BUFFER_LIMIT_BYTES = 1024 * 1024;

export type BodyDirection = 'request' | 'response';

const requestStages = new WeakMap<FilterChain, ReadonlyArray<HttpFilter>>();
const responseStages = new WeakMap<FilterChain, ReadonlyArray<HttpFilter>>();
const NONE: ReadonlyArray<HttpFilter> = Object.freeze([]);

/**
 * The filters of `chain` with a body phase, in the order the phase runs them (request: chain order;
 * response: reverse, as encoders). Worked out once per (immutable, per-snapshot) chain.
 */
export function bodyStages(chain: FilterChain, direction: BodyDirection): ReadonlyArray<HttpFilter> {
  if (chain.length === 0) return NONE;
  const memo = direction === 'request' ? requestStages : responseStages;
  let stages = memo.get(chain);
  if (stages === undefined) {
    const picked = chain.filter((f) => (direction === 'request' ? f.onRequestBody : f.onResponseBody) !== undefined);
    if (direction === 'response') picked.reverse();
    stages = picked.length === 0 ? NONE : Object.freeze(picked);
    memo.set(chain, stages);
  }
  return stages;
}

export interface BodySink {
  /** Data that passed every stage. */
  data(chunk: Buffer): void;
  /** The body ended and every stage let it through. */
  end(): void;
  /** A stage answered locally or its held data outgrew the limit (`overflow`). */
  fail(reply: LocalReply | 'overflow'): void;
}

export class BodyPipeline {
  readonly #ex: HttpExchange;
  readonly #stages: ReadonlyArray<HttpFilter>;
  readonly #direction: BodyDirection;
  readonly #sink: BodySink;
  readonly #limit: number;
  readonly #buffers: BodyBuffer[];
  readonly #held: boolean[];
  readonly #ended: boolean[];
  readonly #resumes: Array<() => void>;
  #failed = false;

  constructor(ex: HttpExchange, stages: ReadonlyArray<HttpFilter>, direction: BodyDirection, sink: BodySink, limit = BODY_BUFFER_LIMIT_BYTES) {
    this.#ex = ex;
    this.#stages = stages;
    this.#direction = direction;
    this.#sink = sink;
    this.#limit = limit;
    this.#buffers = stages.map(() => new BodyBuffer());
    this.#held = stages.map(() => false);
    this.#ended = stages.map(() => false);
    this.#resumes = stages.map((_, i) => () => this.#resume(i));
  }

  push(chunk: Buffer): void {
    this.#feed(0, chunk, false);
  }

  end(): void {
    this.#feed(0, undefined, true);
  }

  #feed(i: number, chunk: Buffer | undefined, eos: boolean): void {
    if (this.#failed) return;
    const stage = this.#stages[i];
    if (stage === undefined) {
      if (chunk !== undefined) this.#sink.data(chunk);
      if (eos) this.#sink.end();
      return;
    }
    const buffer = this.#buffers[i] as BodyBuffer;
    if (chunk !== undefined) buffer.append(chunk);
    if (eos) this.#ended[i] = true;
    const outcome: BodyOutcome = this.#direction === 'request'
      ? (stage.onRequestBody?.(this.#ex, buffer, eos, this.#resumes[i] as () => void) ?? 'continue')
      : (stage.onResponseBody?.(this.#ex, buffer, eos, this.#resumes[i] as () => void) ?? 'continue');
    if (this.#failed) return;
    if (outcome === 'continue') return this.#release(i);
    if (outcome !== 'hold') return this.#fail(outcome);
    this.#held[i] = true;
    if (buffer.length > this.#limit) this.#fail('overflow');
  }

  #release(i: number): void {
    this.#held[i] = false;
    const data = (this.#buffers[i] as BodyBuffer).take();
    const ended = this.#ended[i] === true;
    if (data !== undefined || ended) this.#feed(i + 1, data, ended);
  }

  #resume(i: number): void {
    if (this.#failed || this.#held[i] !== true) return;
    this.#release(i);
  }

  #fail(reason: LocalReply | 'overflow'): void {
    this.#failed = true;
    this.#sink.fail(reason);
  }
}
