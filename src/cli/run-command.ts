// `waypoint run`: start the waypoint from config files, reload on change, drain on SIGTERM/SIGINT.
// With `--workers N` > 1 the process becomes a node:cluster primary (src/cluster) and N workers serve.
import cluster from 'node:cluster';
import type { HboneSettings } from '../hbone/hbone-runtime.js';
import type { HostPort } from '../admin/admin-server.js';
import { StartupError, Waypoint } from '../app/waypoint.js';
import { FileSource } from '../config/source/file-source.js';
import type { Logger } from '../observability/logger.js';
import type { KubernetesSource } from '../config/source/kubernetes/kubernetes-source.js';
import type { KubernetesRunOptions } from './kubernetes-options.js';
import type { WatchableSource } from '../cluster/fingerprinted-source.js';

export interface RunOptions {
  readonly config: ReadonlyArray<string>;
  readonly waypoint: string | undefined;
  readonly clusterDomain: string;
  readonly meshConfigFile: string | undefined;
  readonly adminAddress: HostPort;
  readonly metricsAddress: HostPort | undefined;
  readonly hboneAddress: HostPort | undefined;
  /** Workload identity for HBONE (--cert/--key/--trust-bundle); absent: no HBONE. */
  readonly hbone?: HboneSettings;
  readonly drainTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** `--wasm-cache-dir`: where fetched WasmPlugin modules are kept by digest. */
  readonly wasmCacheDir?: string;
  readonly watch: boolean;
  readonly log: Logger;
  /** `--kubernetes`: config from the API server instead of `config` files (src/cli/kubernetes-mode.ts). */
  readonly kubernetes?: KubernetesRunOptions | undefined;
  /** `--workers`: processes sharing the listeners (src/cluster); 1 or absent: this process serves alone. */
  readonly workers?: number;
  /** Called once this process serves traffic (a worker: its own waypoint started); main.ts caps the heap then. */
  readonly onServing?: () => void;
}

export interface RunningWaypoint {
  readonly waypoint: Waypoint;
  /** Drains and stops; resolves when done. */
  stop(): Promise<void>;
}

/** Starts a waypoint; throws StartupError with a readable message when it cannot. */
export async function startWaypoint(options: RunOptions, from?: FileSource | KubernetesSource | WatchableSource): Promise<RunningWaypoint> {
  if (from === undefined && options.kubernetes !== undefined) {
    // Imported only here: the Kubernetes client library is slow to load and file mode never needs it.
    const { startKubernetesWaypoint } = await import('./kubernetes-mode.js');
    return startKubernetesWaypoint(options, options.kubernetes, (k8s) => startWaypoint({ ...options, watch: true }, k8s));
  }
  const source = from ?? new FileSource(options.config, options.meshConfigFile === undefined ? [] : [options.meshConfigFile]);
  const waypoint = new Waypoint({
    source,
    waypoint: options.waypoint,
    clusterDomain: options.clusterDomain,
    meshConfigFile: options.meshConfigFile,
    adminAddress: options.adminAddress,
    metricsAddress: options.metricsAddress,
    hboneAddress: options.hboneAddress,
    ...(options.hbone === undefined ? {} : { hbone: options.hbone }),
    connectTimeoutMs: options.connectTimeoutMs,
    ...(options.wasmCacheDir === undefined ? {} : { wasm: { cacheDir: options.wasmCacheDir } }),
    log: options.log,
    random: Math.random,
    observer: undefined,
  });
  let watcher: { close(): void } | undefined;
  try {
    await waypoint.start();
  } catch (err) {
    await waypoint.stop(0);
    throw err;
  }
  if (options.watch) watcher = source.watch(() => void waypoint.reload());
  return {
    waypoint,
    stop: async () => {
      watcher?.close();
      const { drained } = await waypoint.stop(options.drainTimeoutMs);
      options.log.info(drained ? 'drained: all in-flight requests completed' : 'drain timeout: remaining requests were cut');
    },
  };
}

/** Runs until SIGTERM or SIGINT; returns the exit code. */
export async function runCommand(options: RunOptions): Promise<number> {
  if (cluster.isWorker) {
    const { runWorker } = await import('../cluster/worker.js');
    return runWorker(options, async (workerOptions, from) => {
      const running = await startWaypoint(workerOptions, from);
      options.onServing?.();
      return running;
    });
  }
  const workers = options.workers ?? 1;
  if (workers > 1 && options.kubernetes !== undefined) {
    // Status writing and leader election assume one process per pod: Kubernetes mode scales with replicas.
    options.log.warn('--workers is not supported with --kubernetes: running one process');
  } else if (workers > 1) {
    const { runPrimary } = await import('../cluster/primary.js');
    return runPrimary(options, workers);
  }
  let running: RunningWaypoint;
  try {
    running = await startWaypoint(options);
  } catch (err) {
    options.log.error(err instanceof StartupError ? err.message : `startup failed: ${String(err)}`);
    return 1;
  }
  options.onServing?.();
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      options.log.info(`${signal}: draining`, { grace_ms: options.drainTimeoutMs });
      void running.stop().then(() => resolve(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}

