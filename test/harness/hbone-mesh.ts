// A Waypoint in-process with HBONE: its own SPIFFE identity from the test PKI, the HBONE listener on a
// loopback port, and a record of every exchange with the connection context it came with.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Waypoint } from '../../src/app/waypoint.js';
import { FileSource } from '../../src/config/source/file-source.js';
import type { HboneSettings } from '../../src/hbone/hbone-runtime.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ConnectionContext } from '../../src/proxy/connection-context.js';
import type { HttpExchange } from '../../src/proxy/http-exchange.js';
import type { Svid, TestPki } from './hbone-certs.js';

export interface HboneRecord {
  readonly status: number;
  readonly flag: string | undefined;
  readonly upstreamHost: string | undefined;
  readonly conn: ConnectionContext;
  /** Envoy's response code details (e.g. `rbac_access_denied_matched_policy[...]`). */
  readonly details: string;
}

export interface HboneMesh {
  readonly waypoint: Waypoint;
  /** `host:port` of the HBONE listener. */
  readonly hbone: { readonly host: string; readonly port: number };
  readonly identity: Svid;
  readonly records: HboneRecord[];
  write(name: string, yaml: string): Promise<void>;
  close(): Promise<void>;
}

export interface HboneMeshOptions {
  /** The waypoint's identity; default `spiffe://cluster.local/ns/default/sa/waypoint`. */
  readonly identity?: Svid;
  readonly trustDomain?: string;
  readonly upstreamPort?: number;
  readonly hboneHost?: string;
  readonly settings?: Partial<Omit<HboneSettings, 'identity'>>;
  readonly connectTimeoutMs?: number;
}

export async function startHboneMesh(pki: TestPki, files: Readonly<Record<string, string>>, options: HboneMeshOptions = {}): Promise<HboneMesh> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-hbone-'));
  for (const [name, yaml] of Object.entries(files)) await writeFile(path.join(dir, name), yaml);
  const identity = options.identity ?? await pki.issue('spiffe://cluster.local/ns/default/sa/waypoint');
  const records: HboneRecord[] = [];
  const host = options.hboneHost ?? '127.0.0.1';
  const waypoint = new Waypoint({
    source: new FileSource([dir]),
    waypoint: undefined,
    clusterDomain: 'cluster.local',
    meshConfigFile: undefined,
    adminAddress: { host: '127.0.0.1', port: 0 },
    metricsAddress: undefined,
    hboneAddress: { host, port: 0 },
    hbone: {
      identity: { certFile: identity.certFile, keyFile: identity.keyFile, trustBundleFile: pki.bundleFile, trustDomain: options.trustDomain ?? 'cluster.local' },
      upstreamPort: options.upstreamPort ?? 15008,
      trustForwardedFrom: [],
      identityPollMs: 100,
      ...options.settings,
    },
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    log: silentLogger,
    random: Math.random,
    observer: (ex: HttpExchange) => records.push({ status: ex.status, flag: ex.flag, upstreamHost: ex.upstreamHost, conn: ex.conn, details: ex.details }),
  });
  try {
    await waypoint.start();
  } catch (err) {
    await waypoint.stop(0);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const address = waypoint.hbone?.server?.address ?? '';
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  return {
    waypoint,
    hbone: { host, port },
    identity,
    records,
    async write(name, yaml) {
      await writeFile(path.join(dir, name), yaml);
      await waypoint.reload();
    },
    async close() {
      await waypoint.stop(500);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
