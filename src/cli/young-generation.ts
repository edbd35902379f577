// Caps V8's young generation in `waypoint run` processes (issue #13: peak RSS). A fresh V8 heap starts each
// semi-space at 1 MiB and doubles it, up to 16 MiB on 64-bit, whenever many objects survive a scavenge:
// startup (module loading, config compile) and the first seconds under load take it to the maximum, and
// its 2 x 16 MiB stay resident for good. A proxy's per-request garbage dies young, so a smaller young
// generation costs some more scavenges, not more copying.
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/**
 * Semi-space cap under load, in MiB. Measured on the bench's full pipeline (wrk, 32 connections, one worker):
 * 8 MiB keeps idle RSS about 12 MiB and peak RSS about 17 MiB under V8's default (16 MiB), for scavenges
 * costing some 1-2% more CPU per request; 4 MiB saves 5 MiB more but costs some 8%, and 1 MiB a fifth.
 */
export const DEFAULT_SEMI_SPACE_MIB = 8;

/** Node/V8 flags that size the young generation themselves: when the user gives one, theirs wins. */
const USER_FLAGS = /(^|\s)--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/;

/**
 * `--max-semi-space-size` only acts when the heap is created, on the node command line, and `waypoint run`
 * is started as `node main.js run` (or the `waypoint` bin) with no say in its own flags. V8 reads
 * `--semi-space-growth-factor` each time it would grow the young generation, though, so this steers growth
 * at runtime: factor 1 (no growth) holds the semi-space at its initial 1 MiB through startup, where long
 * synchronous stretches (module loading, compile) leave no turn to watch it; once `grow` is called, after
 * every GC the factor is V8's default 2 below the cap and 1 at it (V8 may shrink it again when idle). GC
 * notifications arrive between turns of the event loop: scavenges back to back within one turn that each see
 * much surviving (a large config compile under load) can take it one doubling past the cap.
 */
export class YoungGenerationCap {
  #capBytes = 0;
  #growing = false;
  #observer: PerformanceObserver | undefined;

  /** Holds the young generation at its initial size; undefined when the user sized it with node flags. */
  static hold(nodeFlags: string): YoungGenerationCap | undefined {
    if (USER_FLAGS.test(nodeFlags)) return undefined;
    setGrowthFactor(1);
    return new YoungGenerationCap();
  }

  private constructor() {}

  /** Startup is over: lets the semi-space grow up to `semiSpaceMiB` as V8 sees fit, and no further. */
  grow(semiSpaceMiB: number): void {
    this.#capBytes = semiSpaceMiB * 1024 * 1024;
    this.#check();
    if (this.#observer !== undefined) return;
    this.#observer = new PerformanceObserver(() => this.#check());
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /** Back to V8's own growth policy. */
  release(): void {
    this.#observer?.disconnect();
    this.#observer = undefined;
    if (!this.#growing) setGrowthFactor(2);
    this.#growing = true;
  }

  /** The young generation's semi-space size now, in bytes. */
  static semiSpaceBytes(): number {
    // new_space's size counts both semi-spaces.
    return (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 2;
  }

  #check(): void {
    const below = YoungGenerationCap.semiSpaceBytes() < this.#capBytes;
    if (below === this.#growing) return;
    this.#growing = below;
    setGrowthFactor(below ? 2 : 1);
  }
}

function setGrowthFactor(factor: 1 | 2): void {
  v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`);
}

/** The node flags this process was started with: its own command line and NODE_OPTIONS. */
export function nodeFlagsOf(proc: { readonly execArgv: ReadonlyArray<string>; readonly env: NodeJS.ProcessEnv }): string {
  return `${proc.execArgv.join(' ')} ${proc.env['NODE_OPTIONS'] ?? ''}`;
}
