// The one place the live snapshot is held. A swap is a single reference assignment; requests
// pin the snapshot they started with, so in-flight work never sees a half-applied change.
import type { Snapshot } from './snapshot.js';

export type SnapshotListener = (next: Snapshot, previous: Snapshot | undefined) => void;

export class SnapshotStore {
  #current: Snapshot | undefined = undefined;
  readonly #listeners: SnapshotListener[] = [];

  get current(): Snapshot | undefined {
    return this.#current;
  }

  swap(next: Snapshot): void {
    const previous = this.#current;
    this.#current = next;
    for (const l of this.#listeners) l(next, previous);
  }

  subscribe(listener: SnapshotListener): void {
    this.#listeners.push(listener);
  }
}
