// Config from the file system: loads YAML/JSON files and directory trees into RawResources, and watches them.
// Missing or unreadable paths become diagnostics rather than exceptions, so one bad path cannot hide the rest.
import { type FSWatcher, lstatSync, readdirSync, realpathSync, statSync, watch } from 'node:fs';
import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import type { RawResource } from '../resource.js';
import { parseConfigText } from './yaml-documents.js';

export interface LoadResult {
  readonly resources: RawResource[];
  readonly diagnostics: Diagnostic[];
}

const CONFIG_EXTENSIONS = ['.yaml', '.yml', '.json'];

function hasConfigExtension(file: string): boolean {
  return CONFIG_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

/**
 * Dot entries are skipped inside directories: editor lock and swap files live there, and a Kubernetes
 * ConfigMap volume keeps a second copy of every file under `..data/`, which would load everything twice.
 */
function isHidden(name: string): boolean {
  return name.startsWith('.');
}

interface LoadState {
  readonly resources: RawResource[];
  readonly diagnostics: Diagnostic[];
  /** Real paths already read or walked: guards against symlink cycles and the same file given twice. */
  readonly seen: Set<string>;
}

export async function loadConfigFiles(paths: readonly string[]): Promise<LoadResult> {
  const state: LoadState = { resources: [], diagnostics: [], seen: new Set() };
  // Sequential on purpose: the order of resources (and so seq) must not depend on I/O timing.
  for (const p of paths) await loadPath(state, p, true);
  return { resources: state.resources, diagnostics: state.diagnostics };
}

async function loadPath(state: LoadState, p: string, explicit: boolean): Promise<void> {
  let isDirectory: boolean;
  let isFile: boolean;
  try {
    const st = await stat(p);
    isDirectory = st.isDirectory();
    isFile = st.isFile();
  } catch (err) {
    // A dangling link that does not even look like config is someone else's business.
    if (explicit || hasConfigExtension(p)) await unreadable(state, p, err);
    return;
  }
  if (isDirectory) return loadDirectory(state, p);
  // Explicit paths are read whatever they are (`-f /dev/stdin` works); in directories only config files.
  if (!explicit && !(isFile && hasConfigExtension(p))) return;
  const real = await realpath(p).catch(() => path.resolve(p));
  if (state.seen.has(real)) return;
  state.seen.add(real);

  let text: string;
  try {
    text = await readFile(p, 'utf8');
  } catch (err) {
    await unreadable(state, p, err);
    return;
  }
  const parsed = parseConfigText(text, p, state.resources.length);
  state.resources.push(...parsed.resources);
  state.diagnostics.push(...parsed.diagnostics);
}

async function loadDirectory(state: LoadState, dir: string): Promise<void> {
  let names: string[];
  try {
    const real = await realpath(dir);
    if (state.seen.has(real)) return;
    state.seen.add(real);
    names = await readdir(dir);
  } catch (err) {
    await unreadable(state, dir, err);
    return;
  }
  // Default sort compares code units, so the order is the same whatever the locale.
  for (const name of names.sort()) {
    if (!isHidden(name)) await loadPath(state, path.join(dir, name), false);
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory; check the path for typos or create it',
  EACCES: 'permission denied; make it readable by the user running waypoint',
  EPERM: 'permission denied; make it readable by the user running waypoint',
  ELOOP: 'too many levels of symbolic links; fix the symbolic link loop',
  ENOTDIR: 'a parent of this path is a file, not a directory; check the path',
};

async function unreadable(state: LoadState, p: string, err: unknown): Promise<void> {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  let reason = REASONS[code] ?? `${err instanceof Error ? err.message : String(err)}; check that the path is readable`;
  if (code === 'ENOENT' && (await lstat(p).then((st) => st.isSymbolicLink(), () => false))) {
    reason = 'it is a symbolic link to a path that does not exist; fix or remove the link';
  }
  const where = { resource: undefined, file: p, doc: undefined, line: undefined, path: undefined };
  state.diagnostics.push({ severity: 'error', code: 'file-unreadable', ...where, message: `cannot read: ${reason}` });
}

/** Directories to watch: every event counts (`all`), or only events about these child names. */
type WatchPlan = Map<string, 'all' | Set<string>>;

interface DirWatch {
  filter: 'all' | Set<string>;
  readonly watcher: FSWatcher;
}

/**
 * Calls `onChange` (debounced) after anything is created, modified, deleted or renamed under `paths`.
 * Each directory gets its own non-recursive watcher, re-planned whenever entries appear or vanish. Node 20's
 * `recursive: true` on Linux watches each file's inode, so it goes deaf to a file once an editor has
 * replaced it by rename; a directory watch sees every later write to the name.
 */
export function watchConfigFiles(
  paths: readonly string[],
  onChange: () => void,
  options?: { debounceMs?: number },
): { close(): void } {
  const debounceMs = options?.debounceMs ?? 150;
  const watches = new Map<string, DirWatch>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let replan: NodeJS.Immediate | undefined;

  const changed = (): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      try {
        onChange();
      } catch {
        // The caller owns its errors; letting one escape a timer would crash the process.
      }
    }, debounceMs);
  };

  const scheduleReplan = (): void => {
    if (closed || replan !== undefined) return;
    replan = setImmediate(() => {
      replan = undefined;
      applyPlan(false);
    });
  };

  const open = (dir: string, filter: 'all' | Set<string>): DirWatch | undefined => {
    try {
      const entry: DirWatch = {
        filter,
        watcher: watch(dir, (event, name) => {
          if (closed || (entry.filter !== 'all' && name !== null && !entry.filter.has(name))) return;
          changed();
          if (event === 'rename' || name === null) scheduleReplan();
        }),
      };
      // The directory itself vanished or the OS gave up on it: re-plan from what exists now.
      entry.watcher.on('error', () => {
        entry.watcher.close();
        if (watches.get(dir) === entry) watches.delete(dir);
        changed();
        scheduleReplan();
      });
      return entry;
    } catch {
      return undefined; // gone already, or out of inotify watches: nothing useful to do
    }
  };

  const applyPlan = (initial: boolean): void => {
    if (closed) return;
    const plan = planWatches(paths);
    for (const [dir, entry] of watches) {
      if (!plan.has(dir)) {
        entry.watcher.close();
        watches.delete(dir);
      }
    }
    let added = false;
    for (const [dir, filter] of plan) {
      const existing = watches.get(dir);
      if (existing !== undefined) {
        existing.filter = filter;
        continue;
      }
      const entry = open(dir, filter);
      if (entry !== undefined) {
        watches.set(dir, entry);
        added = true;
      }
    }
    // Files may have landed in a new directory before its watcher existed; reload once it is watched.
    if (added && !initial) changed();
  };

  applyPlan(true);
  return {
    close(): void {
      closed = true;
      clearTimeout(timer);
      if (replan !== undefined) clearImmediate(replan);
      for (const entry of watches.values()) entry.watcher.close();
      watches.clear();
    },
  };
}

/** Which directories to watch, keyed by real path so a directory reached twice gets one watcher. */
function planWatches(paths: readonly string[]): WatchPlan {
  const plan: WatchPlan = new Map();
  for (const p of paths) {
    const abs = path.resolve(p);
    if (isDirectorySync(abs)) addTree(plan, abs);
    else addFile(plan, abs);
  }
  return plan;
}

/** A file, or a path that does not exist yet: watch its parent for that name, since editors save by rename. */
function addFile(plan: WatchPlan, file: string): void {
  const link = isSymlinkSync(file);
  // Swapping a link's target (as ConfigMap volumes do with `..data`) happens under another name entirely.
  addDir(plan, path.dirname(file), link ? 'all' : path.basename(file));
  if (!link) return;
  try {
    const real = realpathSync(file);
    addDir(plan, path.dirname(real), path.basename(real)); // in-place edits of the target
  } catch {
    // dangling link: the parent watch sees it being fixed
  }
}

function addTree(plan: WatchPlan, dir: string): void {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return;
  }
  if (plan.get(real) === 'all') return; // walked already: symlink cycle or overlapping paths
  plan.set(real, 'all');
  let entries;
  try {
    entries = readdirSync(real, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (isHidden(e.name)) continue;
    const child = path.join(real, e.name);
    if (e.isDirectory() || (e.isSymbolicLink() && isDirectorySync(child))) addTree(plan, child);
    else if (e.isSymbolicLink() && hasConfigExtension(e.name)) addFile(plan, child);
  }
}

function addDir(plan: WatchPlan, dir: string, names: 'all' | string): void {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return; // the parent does not exist either; nothing can appear there without it being created first
  }
  const current = plan.get(real);
  if (current === 'all') return;
  if (names === 'all') plan.set(real, 'all');
  else if (current === undefined) plan.set(real, new Set([names]));
  else current.add(names);
}

function isDirectorySync(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isSymlinkSync(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
