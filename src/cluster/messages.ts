// The IPC protocol between the cluster primary and its workers (`waypoint run --workers N`).
// Config moves in generations: the primary numbers every reload; a worker answers with the generation it
// applied and a fingerprint of what it loaded, so the primary can tell when every worker serves the same N.

export type ToWorker =
  /** Reload the config files as generation `generation`. */
  | { readonly t: 'reload'; readonly generation: number }
  /** Drain and exit (the primary got SIGTERM/SIGINT). */
  | { readonly t: 'stop' };

export type ToPrimary =
  /** Started: serving, with its own admin server on loopback at `adminPort`. */
  | { readonly t: 'ready'; readonly generation: number; readonly fingerprint: string; readonly adminPort: number }
  /** A reload finished (`applied`: a new snapshot went live; false: the last good one was kept). */
  | { readonly t: 'applied'; readonly generation: number; readonly fingerprint: string; readonly applied: boolean }
  /** Could not start (the message says why); the worker exits after sending it. */
  | { readonly t: 'failed'; readonly message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export function isToWorker(v: unknown): v is ToWorker {
  return isObject(v) && ((v['t'] === 'reload' && typeof v['generation'] === 'number') || v['t'] === 'stop');
}

export function isToPrimary(v: unknown): v is ToPrimary {
  if (!isObject(v)) return false;
  switch (v['t']) {
    case 'ready':
      return typeof v['generation'] === 'number' && typeof v['fingerprint'] === 'string' && typeof v['adminPort'] === 'number';
    case 'applied':
      return typeof v['generation'] === 'number' && typeof v['fingerprint'] === 'string' && typeof v['applied'] === 'boolean';
    case 'failed':
      return typeof v['message'] === 'string';
    default:
      return false;
  }
}

/** The generation a worker starts with: the primary passes it in the environment at fork. */
export const GENERATION_ENV = 'WAYPOINT_CONFIG_GENERATION';
