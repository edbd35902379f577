// HTTPHeaderFilter (`set`, `add`, `remove`) compiled once and applied to a HeaderList; shared by the
// RequestHeaderModifier and ResponseHeaderModifier filters.
import type { HeaderModifier } from '../../config/model/http-route.js';
import type { HeaderList } from '../../http/header-list.js';

export class HeaderEdits {
  readonly #set: ReadonlyArray<readonly [string, string]>;
  readonly #add: ReadonlyArray<readonly [string, string]>;
  readonly #remove: ReadonlyArray<string>;

  constructor(m: HeaderModifier) {
    this.#set = m.set.map((h) => [h.name, h.value] as const);
    this.#add = m.add.map((h) => [h.name, h.value] as const);
    this.#remove = [...m.remove];
  }

  /**
   * "Set overwrites the request with the given header", "Add ... appends to any existing values", "Remove
   * the given header(s)"; names are case-insensitive. The spec allows one action per name, so order is moot.
   */
  apply(list: HeaderList): void {
    for (const name of this.#remove) list.remove(name);
    for (const [name, value] of this.#set) list.set(name, value);
    for (const [name, value] of this.#add) list.add(name, value);
  }

  /** Names this modifier touches, lower-cased, for the "one action per header name" check. */
  static names(m: HeaderModifier): string[] {
    return [...m.set.map((h) => h.name), ...m.add.map((h) => h.name), ...m.remove].map((n) => n.toLowerCase());
  }
}
