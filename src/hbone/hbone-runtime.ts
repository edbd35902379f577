// Everything HBONE for one waypoint: its workload identity (watched files), the inbound listener and the
// outbound tunnel client, started and stopped together by Waypoint.
import type { Duplex } from 'node:stream';
import type { HostPort } from '../admin/admin-server.js';
import type { Logger } from '../observability/logger.js';
import type { ConnectionContext } from '../proxy/connection-context.js';
import type { IdentityFiles } from '../security/certs/identity.js';
import { IdentitySource } from '../security/certs/identity-source.js';
import type { SpiffeId } from '../security/certs/spiffe-id.js';
import { DEFAULT_CLIENT_OPTIONS, HboneClient } from './hbone-client.js';
import { HboneMetrics } from './hbone-metrics.js';
import { DEFAULT_SERVER_LIMITS, HboneServer, type HboneServerLimits } from './hbone-server.js';
import { HboneUpstreams } from './upstream-tunnels.js';

export interface HboneSettings {
  readonly identity: IdentityFiles;
  /** Port of destination HBONE listeners for ambient endpoints (`--hbone-upstream-port`, ztunnel's 15008). */
  readonly upstreamPort: number;
  /**
   * Peers whose `Forwarded: for=` is believed (`--trust-forwarded-from`): SPIFFE IDs, or prefixes ending in
   * `*`. Empty: every peer of the trust domain (in ambient only ztunnels and gateways hold mesh certificates).
   */
  readonly trustForwardedFrom: ReadonlyArray<string>;
  readonly limits?: Partial<HboneServerLimits>;
  /** How often the identity files are stat-polled (besides directory watches). */
  readonly identityPollMs?: number;
}

export interface HboneDataPath {
  /** Whether a CONNECT authority `ip:port` is a destination of the live snapshot. */
  readonly serves: (key: string) => boolean;
  readonly accept: (stream: Duplex, ctx: ConnectionContext) => void;
}

export class HboneRuntime {
  readonly identity: IdentitySource;
  readonly client: HboneClient;
  readonly upstreams: HboneUpstreams;
  /** waypoint_hbone_* families for /stats/prometheus (hbone-metrics.ts). */
  readonly metrics: HboneMetrics;
  readonly #settings: HboneSettings;
  readonly #log: Logger;
  #server: HboneServer | undefined;

  constructor(settings: HboneSettings, log: Logger, connectTimeoutMs: number) {
    this.#settings = settings;
    this.#log = log;
    this.identity = new IdentitySource(settings.identity, log, settings.identityPollMs);
    this.client = new HboneClient({
      identity: this.identity,
      trustDomain: settings.identity.trustDomain,
      hbonePort: settings.upstreamPort,
      connectTimeoutMs,
      ...DEFAULT_CLIENT_OPTIONS,
      ...(settings.limits?.keepalive === undefined ? {} : { keepalive: settings.limits.keepalive }),
    });
    this.upstreams = new HboneUpstreams(this.client);
    const client = this.client;
    this.metrics = new HboneMetrics({
      inbound: () => {
        const server = this.#server;
        return server === undefined ? undefined : { stats: server.stats, openBytes: () => server.openBytes() };
      },
      outbound: { stats: client.stats, openBytes: () => client.openBytes() },
    });
  }

  /** Loads and watches the identity; binds the inbound listener when `address` is given. Throws on failure. */
  async start(address: HostPort | undefined, path: HboneDataPath): Promise<void> {
    const active = await this.identity.load();
    this.identity.watch();
    this.#log.info('workload identity loaded', { identity: active.identity.id.uri, not_after: active.identity.notAfter.toISOString() });
    if (address === undefined) return;
    const log = this.#log;
    const server = new HboneServer({
      identity: this.identity,
      trustDomain: this.#settings.identity.trustDomain,
      serves: path.serves,
      accept: path.accept,
      trustForwarded: forwardedTrust(this.#settings.trustForwardedFrom),
      log: (level, message, fields) => log[level](message, fields),
      limits: { ...DEFAULT_SERVER_LIMITS, ...this.#settings.limits },
    });
    await server.listen(address.host, address.port);
    this.#server = server;
    log.info('HBONE listener ready', { address: server.address });
  }

  get server(): HboneServer | undefined {
    return this.#server;
  }

  /** Stops accepting tunnels; open ones get GOAWAY and finish their streams. */
  drain(): void {
    this.#server?.drain();
  }

  close(): void {
    this.#server?.close();
    this.client.close();
    this.identity.close();
  }
}

/** `spiffe://td/ns/istio-system/sa/ztunnel` exact, or `spiffe://td/ns/istio-system/*` as a prefix. */
export function forwardedTrust(patterns: ReadonlyArray<string>): (peer: SpiffeId) => boolean {
  if (patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (peer) => exact.has(peer.uri) || prefixes.some((p) => peer.uri.startsWith(p));
}
