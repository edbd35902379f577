// Starts a real Waypoint for the observability tests: like startMesh, plus the metrics address (what
// Prometheus scrapes), a MeshConfig file and short telemetry intervals, and a logger that keeps lines.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Waypoint } from '../../src/app/waypoint.js';
import { FileSource } from '../../src/config/source/file-source.js';
import { createLogger } from '../../src/observability/logger.js';

export interface ObservedMesh {
  readonly waypoint: Waypoint;
  readonly dir: string;
  /** `host:port` of the metrics server (`/stats/prometheus`). */
  readonly metrics: string;
  readonly admin: string;
  /** Application log lines (warnings and errors). */
  readonly logs: string[];
  write(name: string, yaml: string): Promise<void>;
  /** Replaces the MeshConfig file (it must have been given at start) and reloads. */
  writeMesh(yaml: string): Promise<void>;
  close(): Promise<void>;
}

export async function startObservedMesh(files: Readonly<Record<string, string>>, mesh: string | undefined): Promise<ObservedMesh> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-obs-'));
  const configDir = path.join(dir, 'config');
  await import('node:fs/promises').then((fs) => fs.mkdir(configDir));
  for (const [name, yaml] of Object.entries(files)) await writeFile(path.join(configDir, name), yaml);
  const meshFile = mesh === undefined ? undefined : path.join(dir, 'mesh.yaml');
  if (meshFile !== undefined && mesh !== undefined) await writeFile(meshFile, mesh);
  const logs: string[] = [];
  const waypoint = new Waypoint({
    source: new FileSource([configDir]),
    waypoint: undefined,
    clusterDomain: 'cluster.local',
    meshConfigFile: meshFile,
    adminAddress: { host: '127.0.0.1', port: 0 },
    metricsAddress: { host: '127.0.0.1', port: 0 },
    hboneAddress: undefined,
    connectTimeoutMs: 2000,
    log: createLogger('text', (line) => logs.push(line), 'warn'),
    random: Math.random,
    observer: undefined,
    telemetry: { spanFlushMs: 100 },
  });
  await waypoint.start();
  return {
    waypoint,
    dir,
    metrics: waypoint.metricsAddress,
    admin: waypoint.adminAddress,
    logs,
    async write(name, yaml) {
      await writeFile(path.join(configDir, name), yaml);
      await waypoint.reload();
    },
    async writeMesh(yaml) {
      if (meshFile === undefined) throw new Error('the mesh was started without a MeshConfig file');
      await writeFile(meshFile, yaml);
      await waypoint.reload();
    },
    async close() {
      await waypoint.stop(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** GETs a path of the metrics server; `accept` picks the exposition format. */
export async function scrape(address: string, accept?: string): Promise<{ readonly type: string; readonly body: string }> {
  const res = await fetch(`http://${address}/stats/prometheus`, accept === undefined ? {} : { headers: { accept } });
  return { type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** The value of the sample `name{labels}` whose labels include every `want` pair; undefined when none. */
export function sampleValue(exposition: string, name: string, want: Readonly<Record<string, string>>): number | undefined {
  let total: number | undefined;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = parseLabels(line.slice(name.length + 1, line.lastIndexOf('}')));
    if (Object.entries(want).every(([k, v]) => labels.get(k) === v)) total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** `a="x",b="y"` → Map, in order (values unescaped). */
export function parseLabels(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.set(m[1] as string, (m[2] as string).replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c)));
  return out;
}
