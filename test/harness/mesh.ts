// Runs a real Waypoint in-process against a temp config directory, with admin on an ephemeral port.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Waypoint } from '../../src/app/waypoint.js';
import { FileSource } from '../../src/config/source/file-source.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { HttpExchange } from '../../src/proxy/http-exchange.js';

export interface ExchangeRecord {
  readonly status: number;
  readonly flag: string | undefined;
  readonly details: string;
  readonly route: string | undefined;
  readonly cluster: string | undefined;
  readonly upstreamHost: string | undefined;
}

export interface TestMesh {
  readonly waypoint: Waypoint;
  readonly dir: string;
  readonly admin: string;
  /** Every finished exchange, in completion order. */
  readonly records: ExchangeRecord[];
  /** Replaces `name` in the config dir; without a watcher it also reloads (with one, the watcher does). */
  write(name: string, yaml: string): Promise<void>;
  close(): Promise<void>;
}

export async function startMesh(files: Readonly<Record<string, string>>, options: { watch?: boolean; waypoint?: string; meshConfigFile?: string } = {}): Promise<TestMesh> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-e2e-'));
  for (const [name, yaml] of Object.entries(files)) await writeFile(path.join(dir, name), yaml);
  const records: ExchangeRecord[] = [];
  const source = new FileSource([dir]);
  const waypoint = new Waypoint({
    source,
    waypoint: options.waypoint,
    clusterDomain: 'cluster.local',
    meshConfigFile: options.meshConfigFile,
    adminAddress: { host: '127.0.0.1', port: 0 },
    metricsAddress: undefined,
    hboneAddress: undefined,
    connectTimeoutMs: 2000,
    log: silentLogger,
    random: Math.random,
    observer: (ex: HttpExchange) => records.push({ status: ex.status, flag: ex.flag, details: ex.details, route: ex.routeName, cluster: ex.clusterId, upstreamHost: ex.upstreamHost }),
  });
  await waypoint.start();
  const watcher = options.watch === true ? source.watch(() => void waypoint.reload()) : undefined;
  return {
    waypoint,
    dir,
    admin: waypoint.adminAddress,
    records,
    async write(name, yaml) {
      await writeFile(path.join(dir, name), yaml);
      if (watcher === undefined) await waypoint.reload();
    },
    async close() {
      watcher?.close();
      await waypoint.stop(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 20));
  }
}
