// The primary of `waypoint run --workers N` (node:cluster): forks the workers, binds the public admin and
// metrics servers, watches the config files and numbers every reload as a generation. A generation counts
// as applied only once every worker has reported it with the same fingerprint (workers that read files
// mid-edit differ, and the primary then asks for one more generation). Workers that die are replaced.
import cluster, { type Worker } from 'node:cluster';
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { listenHttp } from '../admin/admin-server.js';
import type { RunOptions } from '../cli/run-command.js';
import { FileSource } from '../config/source/file-source.js';
import { GENERATION_ENV, isToPrimary, type ToPrimary, type ToWorker } from './messages.js';
import { primaryAdminHandler, primaryMetricsHandler, type PrimaryState, type WorkerView } from './primary-admin.js';

interface Slot {
  readonly id: number;
  worker: Worker;
  ready: boolean;
  generation: number;
  fingerprint: string;
  adminPort: number | undefined;
}

/** Delay before a worker that died is replaced (a crash loop must not spin). */
const RESPAWN_DELAY_MS = 1_000;

export async function runPrimary(options: RunOptions, count: number): Promise<number> {
  const log = options.log;
  const slots: Slot[] = [];
  let generation = 1;
  let appliedGeneration = 0;
  let stopping = false;
  let startupFailure: string | undefined;
  let onSettled: (() => void) | undefined;

  const state: PrimaryState = {
    ready: () => !stopping && appliedGeneration > 0 && slots.length === count && slots.every((s) => s.ready),
    generation: () => generation,
    appliedGeneration: () => appliedGeneration,
    workers: () => slots.map((s): WorkerView => ({ id: s.id, pid: s.worker.process.pid, ready: s.ready, generation: s.generation, fingerprint: s.fingerprint, adminPort: s.adminPort })),
  };

  const post = (slot: Slot, msg: ToWorker): void => {
    if (slot.worker.isConnected()) slot.worker.send(msg);
  };

  const reload = (): void => {
    generation++;
    for (const s of slots) post(s, { t: 'reload', generation });
  };

  /** Generation `generation` is applied once every worker reports it from the same files. */
  const converge = (): void => {
    if (slots.length < count || !slots.every((s) => s.ready && s.generation >= generation)) return;
    if (appliedGeneration === generation) return;
    if (new Set(slots.map((s) => s.fingerprint)).size > 1) {
      log.warn(`workers read different files for config generation ${generation} (changed during the reload): reloading again`);
      reload();
      return;
    }
    appliedGeneration = generation;
    log.info(`config generation ${generation} applied by all ${count} workers`);
    onSettled?.();
  };

  const onMessage = (slot: Slot, msg: ToPrimary): void => {
    if (msg.t === 'failed') {
      startupFailure ??= msg.message;
      onSettled?.();
      return;
    }
    if (msg.t === 'ready') {
      slot.ready = true;
      slot.adminPort = msg.adminPort;
    }
    slot.generation = Math.max(slot.generation, msg.generation);
    slot.fingerprint = msg.fingerprint;
    // A worker (re)started at an older generation than the latest: bring it up to date.
    if (msg.t === 'ready' && msg.generation < generation) post(slot, { t: 'reload', generation });
    converge();
  };

  const fork = (id: number): Worker => {
    const worker = cluster.fork({ [GENERATION_ENV]: String(generation), WAYPOINT_WORKER_ID: String(id) });
    const slot = slots.find((s) => s.id === id);
    if (slot === undefined) slots.push({ id, worker, ready: false, generation: 0, fingerprint: '', adminPort: undefined });
    else Object.assign(slot, { worker, ready: false, generation: 0, fingerprint: '', adminPort: undefined });
    worker.on('message', (msg: unknown) => {
      const s = slots.find((x) => x.worker === worker);
      if (s !== undefined && isToPrimary(msg)) onMessage(s, msg);
    });
    worker.once('exit', (code, signal) => {
      const s = slots.find((x) => x.worker === worker);
      if (s !== undefined) s.ready = false;
      if (stopping || startupFailure !== undefined) return;
      if (appliedGeneration === 0) {
        startupFailure ??= `worker ${id} exited during startup (code ${String(code)}, signal ${String(signal)})`;
        onSettled?.();
        return;
      }
      log.error(`worker ${id} (pid ${String(worker.process.pid)}) exited (code ${String(code)}, signal ${String(signal)}): starting a new one`);
      setTimeout(() => {
        if (!stopping) fork(id);
      }, RESPAWN_DELAY_MS).unref();
    });
    return worker;
  };

  const servers: http.Server[] = [];
  const closeServers = (): Promise<void> => Promise.all(servers.map((s) => new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  }))).then(() => undefined);
  const stopWorkers = async (): Promise<void> => {
    stopping = true;
    const exits = slots.map((s) => (s.worker.isDead() ? Promise.resolve() : new Promise<void>((r) => s.worker.once('exit', () => r()))));
    for (const s of slots) post(s, { t: 'stop' });
    const all = Promise.all(exits).then(() => true);
    if (!(await Promise.race([all, sleep(options.drainTimeoutMs + 5_000).then(() => false)]))) {
      for (const s of slots) if (!s.worker.isDead()) s.worker.process.kill('SIGKILL');
      await all;
    }
  };

  try {
    servers.push(await listenHttp(primaryAdminHandler(state), options.adminAddress, 'admin'));
    if (options.metricsAddress !== undefined) servers.push(await listenHttp(primaryMetricsHandler(state), options.metricsAddress, 'metrics'));
  } catch (err) {
    log.error(err instanceof Error ? err.message : String(err));
    await closeServers();
    return 1;
  }

  // Workers run this same program (same argv); src/cli/run-command.ts sends them to runWorker.
  cluster.setupPrimary({ exec: process.argv[1] ?? '', args: process.argv.slice(2) });
  await new Promise<void>((resolve) => {
    onSettled = resolve;
    for (let i = 1; i <= count; i++) fork(i);
  });
  onSettled = undefined;
  if (startupFailure !== undefined) {
    log.error(startupFailure);
    await stopWorkers();
    await closeServers();
    return 1;
  }
  log.info('waypoint ready', { workers: count, generation: appliedGeneration });

  const watcher = options.watch ? new FileSource(options.config, options.meshConfigFile === undefined ? [] : [options.meshConfigFile]).watch(reload) : undefined;
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      log.info(`${signal}: draining ${count} workers`, { grace_ms: options.drainTimeoutMs });
      watcher?.close();
      void stopWorkers().then(closeServers).then(() => resolve(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
