// One cluster worker of `waypoint run --workers N`: a whole waypoint (config, data plane, its own admin server
// on a loopback port only the primary uses), whose VIP and HBONE listeners are shared with the other workers.
// It reloads when the primary says so and answers with the generation and a fingerprint of what it loaded.
import type { RunOptions, RunningWaypoint } from '../cli/run-command.js';
import { FileSource } from '../config/source/file-source.js';
import { FingerprintedSource, type WatchableSource } from './fingerprinted-source.js';
import { GENERATION_ENV, isToWorker, type ToPrimary } from './messages.js';

export type StartWaypoint = (options: RunOptions, from: WatchableSource) => Promise<RunningWaypoint>;

function send(msg: ToPrimary): void {
  process.send?.(msg);
}

/** Runs until told to stop (or the primary goes away); returns the exit code. */
export async function runWorker(options: RunOptions, start: StartWaypoint): Promise<number> {
  let generation = Number(process.env[GENERATION_ENV] ?? '1');
  const source = new FingerprintedSource(new FileSource(options.config, options.meshConfigFile === undefined ? [] : [options.meshConfigFile]));
  let running: RunningWaypoint;
  try {
    // The primary watches the files and owns the public admin and metrics addresses.
    running = await start({ ...options, watch: false, adminAddress: { host: '127.0.0.1', port: 0 }, metricsAddress: undefined, workers: 1 }, source);
  } catch (err) {
    send({ t: 'failed', message: err instanceof Error ? err.message : String(err) });
    return 1;
  }
  const adminPort = Number(running.waypoint.adminAddress.slice(running.waypoint.adminAddress.lastIndexOf(':') + 1));
  send({ t: 'ready', generation, fingerprint: source.fingerprint, adminPort });
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      options.log.info(`worker ${process.pid}: ${why}: draining`, { grace_ms: options.drainTimeoutMs });
      void running.stop().then(() => {
        process.off('message', onMessage);
        if (process.connected) process.disconnect();
        resolve(0);
      });
    };
    const onMessage = (msg: unknown): void => {
      if (!isToWorker(msg)) return;
      if (msg.t === 'stop') return stop('stop requested');
      generation = Math.max(generation, msg.generation);
      const asked = msg.generation;
      void running.waypoint.reload().then((outcome) => {
        // Reloads coalesce: the load this outcome comes from started after `asked` was requested.
        send({ t: 'applied', generation: asked, fingerprint: source.fingerprint, applied: outcome.kind === 'applied' });
      });
    };
    process.on('message', onMessage);
    process.once('disconnect', () => stop('primary gone'));
    // A terminal's Ctrl-C reaches every process of the group: the primary coordinates, the worker just drains.
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
