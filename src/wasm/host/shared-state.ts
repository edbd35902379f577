// Shared data (key/value with compare-and-swap) and shared queues, scoped by VM id: one plugin never
// sees another's keys or queues. The store outlives VMs, so a replaced VM finds its data again (Envoy
// keeps shared data per vm_id for the process lifetime).

interface SharedEntry {
  value: Uint8Array;
  cas: number;
}

interface Queue {
  readonly id: number;
  readonly items: Uint8Array[];
  /** The root context to wake with proxy_on_queue_ready (the VM that registered the queue). */
  wake: ((id: number) => void) | undefined;
}

/** A bound on queued items per queue, so a consumer that never dequeues cannot exhaust the process. */
const QUEUE_LIMIT = 10_000;

export class SharedStore {
  readonly #scopes = new Map<string, SharedState>();
  #nextQueueId = 1;

  /** The state of one VM id. */
  scope(vmId: string): SharedState {
    let s = this.#scopes.get(vmId);
    if (s === undefined) {
      s = new SharedState(() => this.#nextQueueId++);
      this.#scopes.set(vmId, s);
    }
    return s;
  }
}

export type SetResult = 'ok' | 'cas-mismatch';
export type EnqueueResult = 'ok' | 'not-found' | 'full';

export class SharedState {
  readonly #data = new Map<string, SharedEntry>();
  readonly #queuesByName = new Map<string, Queue>();
  readonly #queuesById = new Map<number, Queue>();
  readonly #newQueueId: () => number;
  #nextCas = 1;

  constructor(newQueueId: () => number) {
    this.#newQueueId = newQueueId;
  }

  get(key: string): { readonly value: Uint8Array; readonly cas: number } | undefined {
    return this.#data.get(key);
  }

  /** `cas` 0 sets unconditionally; otherwise it must equal the entry's current cas. */
  set(key: string, value: Uint8Array, cas: number): SetResult {
    const entry = this.#data.get(key);
    if (cas !== 0 && (entry === undefined ? true : entry.cas !== cas)) return 'cas-mismatch';
    this.#data.set(key, { value, cas: this.#nextCas++ });
    return 'ok';
  }

  register(name: string, wake: (id: number) => void): number {
    let q = this.#queuesByName.get(name);
    if (q === undefined) {
      q = { id: this.#newQueueId(), items: [], wake };
      this.#queuesByName.set(name, q);
      this.#queuesById.set(q.id, q);
    }
    q.wake = wake;
    return q.id;
  }

  resolve(name: string): number | undefined {
    return this.#queuesByName.get(name)?.id;
  }

  enqueue(id: number, value: Uint8Array): EnqueueResult {
    const q = this.#queuesById.get(id);
    if (q === undefined) return 'not-found';
    if (q.items.length >= QUEUE_LIMIT) return 'full';
    q.items.push(value);
    const wake = q.wake;
    // Delivered asynchronously, as Envoy posts it to the VM's dispatcher: never re-entering the caller.
    if (wake !== undefined) setImmediate(() => wake(id));
    return 'ok';
  }

  /** Undefined when the queue is unknown; null when empty. */
  dequeue(id: number): Uint8Array | null | undefined {
    const q = this.#queuesById.get(id);
    if (q === undefined) return undefined;
    return q.items.shift() ?? null;
  }
}
