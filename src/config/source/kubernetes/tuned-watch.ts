// client-node's Watch, tuned for a long-running informer: asks for bookmarks and a server-side timeout
// (client-go's 5-10 minutes), gives up on a connect that hangs and on a stream that goes silent (a
// half-open TCP connection never ends by itself), and drops managedFields to keep the cache small.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { isObject } from '../../../kubernetes/kube-rest.js';

export interface WatchTuning {
  /** Server-side `timeoutSeconds` is this times 1..2 (jittered so watches do not end together). */
  readonly minWatchSeconds: number;
  /** A watch whose response headers do not arrive in this time is abandoned and retried. */
  readonly connectTimeoutMs: number;
  /** A stream silent for its timeoutSeconds plus this is presumed dead and reconnected. */
  readonly idleGraceMs: number;
}

export const DEFAULT_WATCH_TUNING: WatchTuning = { minWatchSeconds: 300, connectTimeoutMs: 30_000, idleGraceMs: 30_000 };

/** The watch was abandoned by the watchdog (not an API server error). */
export class WatchStalledError extends Error {
  readonly statusCode = 0;
}

type Callback = (phase: string, apiObj: unknown, watchObj?: unknown) => void;
type Done = (err: unknown) => void;

export class TunedWatch extends Watch {
  readonly #tuning: WatchTuning;
  readonly #random: () => number;
  /** Set by the list function; the next watch() call means ListWatch has applied that list. */
  listPending = false;
  onListed: () => void = () => {};
  /** Every event, before ListWatch sees it (bookmarks included): the informer resets its backoff. */
  onEvent: (phase: string) => void = () => {};

  constructor(kc: KubeConfig, tuning: WatchTuning, random: () => number) {
    super(kc);
    this.#tuning = tuning;
    this.#random = random;
  }

  override async watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: Callback, done: Done): Promise<AbortController> {
    // ListWatch calls watch() synchronously after it has applied a list: the cache is complete now.
    if (this.listPending) {
      this.listPending = false;
      this.onListed();
    }
    const timeoutSeconds = Math.round(this.#tuning.minWatchSeconds * (1 + this.#random()));
    const outer = new AbortController();
    let inner: AbortController | undefined;
    let finished = false;
    let stalled = false;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      done(stalled ? new WatchStalledError(`watch ${path} stalled: reconnecting`) : err);
    };
    const stall = (): void => {
      stalled = true;
      outer.abort();
    };
    let timer = setTimeout(stall, this.#tuning.connectTimeoutMs);
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(stall, timeoutSeconds * 1000 + this.#tuning.idleGraceMs);
    };
    outer.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      if (inner !== undefined) inner.abort();
      // Still connecting: end it after ListWatch has stored `outer` as its request, so its cleanup is right.
      else setImmediate(() => finish(new Error(`watch ${path} aborted`)));
    }, { once: true });
    const aborted = new Promise<void>((resolve) => outer.signal.addEventListener('abort', () => resolve(), { once: true }));
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds };
    const onEvent: Callback = (phase, obj, raw) => {
      arm();
      if (isObject(obj) && isObject(obj['metadata'])) delete obj['metadata']['managedFields'];
      this.onEvent(phase);
      callback(phase, obj, raw);
    };
    const connected = super.watch(path, params, onEvent, finish).then((controller) => {
      inner = controller;
      if (outer.signal.aborted) controller.abort();
      else if (!finished) arm();
    }, (err: unknown) => finish(err));
    await Promise.race([connected, aborted]);
    return outer;
  }
}
