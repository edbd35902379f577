// Request headers named by `request.headers[...]` conditions get a small integer slot at compile time, so a
// request looks each one up once (AuthzInput caches by slot) however many policies read it.
const slots = new Map<string, number>();

/** The slot of a lower-case header name; stable for the life of the process (names come from config). */
export function headerSlot(lowerName: string): number {
  let s = slots.get(lowerName);
  if (s === undefined) {
    s = slots.size;
    slots.set(lowerName, s);
  }
  return s;
}

/** How many slots exist: the size of a request's header cache. */
export function headerSlotCount(): number {
  return slots.size;
}
