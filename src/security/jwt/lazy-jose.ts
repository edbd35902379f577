// jose is imported when the first key is imported (issue #13, RSS): a waypoint without RequestAuthentication,
// or whose tokens never reach signature checks, never loads it. Once loaded, callers get it without a turn.
type Jose = typeof import('jose');

let loaded: Jose | undefined;
let loading: Promise<Jose> | undefined;

/** jose itself: at once when already loaded, else after its import. */
export function jose(): Jose | Promise<Jose> {
  return loaded ?? (loading ??= import('jose').then((m) => (loaded = m)));
}
