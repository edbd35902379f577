// `waypoint run --kubernetes`: config from the API server (list+watch), status written back by the
// replica holding the Lease, readiness on --health-address. Until a waypoint Gateway compiles the
// process waits (not ready) instead of crash-looping; SIGTERM fails readiness first, then drains.
import { createHash, randomUUID } from 'node:crypto';
import type http from 'node:http';
import os from 'node:os';
import { StartupError, type Waypoint } from '../app/waypoint.js';
import { FileSource } from '../config/source/file-source.js';
import { KubernetesSource } from '../config/source/kubernetes/kubernetes-source.js';
import { loadKubeConfig } from '../kubernetes/kube-config.js';
import { KubeRest } from '../kubernetes/kube-rest.js';
import { LeaderElector } from '../kubernetes/leader-election.js';
import { StatusWriter } from '../kubernetes/status/status-writer.js';
import { closeHealthServer, startHealthServer } from './health-server.js';
import { DEFAULT_KUBERNETES_TIMING, type KubernetesRunOptions } from './kubernetes-options.js';
import type { RunningWaypoint, RunOptions } from './run-command.js';

export interface KubernetesWaypoint extends RunningWaypoint {
  readonly source: KubernetesSource;
  /** Undefined with --no-write-status. */
  readonly elector: LeaderElector | undefined;
  readonly writer: StatusWriter | undefined;
}

type Start = (source: KubernetesSource) => Promise<RunningWaypoint>;

export async function startKubernetesWaypoint(options: RunOptions, k8s: KubernetesRunOptions, start: Start): Promise<KubernetesWaypoint> {
  const log = options.log;
  const timing = { ...DEFAULT_KUBERNETES_TIMING, ...k8s.timing };
  const { kc, from, inClusterNamespace } = loadKubeConfig(k8s.kubeconfig);
  log.info('reading configuration from the Kubernetes API server', { credentials: from });
  const rest = new KubeRest(kc, { timeoutMs: timing.requestTimeoutMs, userAgent: 'waypoint/0.1.0', pageSize: 500 });
  const source = new KubernetesSource({
    kc,
    rest,
    log,
    debounceMs: timing.reloadDebounceMs,
    tuning: { minWatchSeconds: timing.minWatchSeconds, connectTimeoutMs: timing.watchConnectTimeoutMs, idleGraceMs: timing.watchIdleGraceMs },
    backoffMs: timing.backoffMs,
    absentRetryMs: timing.absentRetryMs,
  });
  let current: Waypoint | undefined;
  let health: http.Server | undefined;
  try {
    if (k8s.healthAddress !== undefined) health = await startHealthServer(k8s.healthAddress, () => current?.ready === true);
    source.start();
    log.info('listing and watching', { kinds: source.kinds.join(',') });
    const running = await startWhenServable(source, start, options);
    current = running.waypoint;
    // --mesh-config is re-read on every reload; reload when the file (a mounted ConfigMap) changes too.
    const meshWatch = options.meshConfigFile === undefined ? undefined : new FileSource([options.meshConfigFile]).watch(() => void running.waypoint.reload());
    const status = k8s.writeStatus ? startStatus(running.waypoint, source, rest, k8s, timing, inClusterNamespace, options) : undefined;
    return {
      waypoint: running.waypoint,
      source,
      elector: status?.elector,
      writer: status?.writer,
      stop: async () => {
        meshWatch?.close();
        // Readiness fails first (inside stop), then the lease is released so another replica writes status.
        const draining = running.stop();
        await status?.writer.close();
        await status?.elector.stop(true);
        await draining;
        await source.close();
        await closeHealthServer(health);
      },
    };
  } catch (err) {
    await source.close();
    await closeHealthServer(health);
    throw err;
  }
}

/** Starts once a waypoint Gateway compiles; a StartupError about config waits for the next change. */
async function startWhenServable(source: KubernetesSource, start: Start, options: RunOptions): Promise<RunningWaypoint> {
  for (;;) {
    let changed = false;
    let wake = (): void => {};
    const watch = source.watch(() => {
      changed = true;
      wake();
    });
    try {
      return await start(source);
    } catch (err) {
      if (!(err instanceof StartupError) || !err.message.startsWith('no configuration could be applied')) throw err;
      options.log.error(`${err.message}\nnot ready: waiting for a change in the cluster`);
      if (!changed) await new Promise<void>((resolve) => (wake = resolve));
    } finally {
      watch.close();
    }
  }
}

function startStatus(waypoint: Waypoint, source: KubernetesSource, rest: KubeRest, k8s: KubernetesRunOptions, timing: typeof DEFAULT_KUBERNETES_TIMING, podNamespace: string | undefined, options: RunOptions): { elector: LeaderElector; writer: StatusWriter } {
  const snapshot = waypoint.store.current;
  const gw = snapshot?.waypoint;
  if (snapshot === undefined || gw === undefined) throw new Error('started without a waypoint snapshot');
  const namespace = k8s.leaderElectionNamespace ?? nonEmpty(process.env['POD_NAMESPACE']) ?? podNamespace ?? gw.namespace;
  let elector: LeaderElector | undefined = undefined;
  const writer = new StatusWriter({
    rest,
    objects: source,
    log: options.log,
    clusterDomain: options.clusterDomain,
    isLeader: () => elector?.isLeader === true,
    debounceMs: timing.statusDebounceMs,
  });
  elector = new LeaderElector({
    rest,
    namespace,
    name: leaseName(gw.namespace, gw.name),
    identity: `${os.hostname()}_${randomUUID().slice(0, 8)}`,
    leaseDurationMs: timing.leaseDurationMs,
    renewDeadlineMs: timing.renewDeadlineMs,
    retryPeriodMs: timing.retryPeriodMs,
    log: options.log,
    onStartedLeading: () => writer.schedule(0),
    onStoppedLeading: () => {},
  });
  // The snapshot and the exact objects it was compiled from: swaps happen right after source.load().
  waypoint.store.subscribe((next) => writer.setBasis({ snapshot: next, objects: source.loaded }));
  writer.setBasis({ snapshot, objects: source.loaded });
  source.onObjectChange(() => writer.schedule());
  elector.start();
  return { elector, writer };
}

/** One Lease per waypoint Gateway: replicas of the same waypoint share it, other waypoints do not. */
export function leaseName(namespace: string, name: string): string {
  const full = `waypoint-status.${namespace}.${name}`;
  return full.length <= 253 ? full : `waypoint-status.${createHash('sha256').update(full).digest('hex').slice(0, 32)}`;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
