// Live request stream (`/debug/tap`): each subscriber gets the decision trace of every matching request
// as one NDJSON line. A slow reader never slows the proxy: once its socket buffer holds more than
// `maxBufferBytes`, lines are dropped and counted, and the count is reported when it catches up.
import type { Writable } from 'node:stream';
import type { DecisionTrace } from './decision-trace.js';

export interface TapFilter {
  /** `namespace/name` or just the name. */
  readonly service?: string | undefined;
  /** Path prefix (query string ignored). */
  readonly path?: string | undefined;
  /** Exact status or a class such as `5xx`. */
  readonly status?: string | undefined;
}

export const DEFAULT_TAP_BUFFER_BYTES = 64 * 1024;

interface Subscriber {
  readonly out: Writable;
  readonly filter: TapFilter;
  dropped: number;
}

export class TapHub {
  readonly #subscribers = new Set<Subscriber>();
  readonly #maxBufferBytes: number;
  /** Lines dropped across all subscribers since start (slow clients). */
  droppedTotal = 0;

  constructor(maxBufferBytes = DEFAULT_TAP_BUFFER_BYTES) {
    this.#maxBufferBytes = maxBufferBytes;
  }

  /** Whether anyone listens: the observer skips building traces for the tap when not. */
  get active(): boolean {
    return this.#subscribers.size > 0;
  }

  subscribe(out: Writable, filter: TapFilter): () => void {
    const sub: Subscriber = { out, filter, dropped: 0 };
    this.#subscribers.add(sub);
    const unsubscribe = (): void => void this.#subscribers.delete(sub);
    out.once('close', unsubscribe);
    return unsubscribe;
  }

  publish(trace: DecisionTrace): void {
    let line: string | undefined;
    for (const sub of this.#subscribers) {
      if (!matches(sub.filter, trace)) continue;
      if (sub.out.writableLength > this.#maxBufferBytes) {
        sub.dropped++;
        this.droppedTotal++;
        continue;
      }
      if (sub.dropped > 0) {
        sub.out.write(`${JSON.stringify({ dropped: sub.dropped })}\n`);
        sub.dropped = 0;
      }
      line ??= `${JSON.stringify(trace)}\n`;
      sub.out.write(line);
    }
  }
}

export function matches(f: TapFilter, t: DecisionTrace): boolean {
  if (f.service !== undefined && f.service !== '' && t.service !== f.service && t.service.split('/')[1] !== f.service) return false;
  if (f.path !== undefined && f.path !== '' && !t.request.path.split('?')[0]?.startsWith(f.path)) return false;
  if (f.status !== undefined && f.status !== '') {
    const cls = /^([1-5])xx$/i.exec(f.status);
    if (cls !== null ? Math.floor(t.response.status / 100) !== Number(cls[1]) : t.response.status !== Number(f.status)) return false;
  }
  return true;
}
