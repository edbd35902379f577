// HBONE tunnel metrics on /stats/prometheus, both directions (`direction="inbound"`: the waypoint's port
// 15008; `direction="outbound"`: tunnels to ambient pods). ztunnel and Envoy have no standard names for
// these, so they carry the waypoint_ prefix: tunnel connections opened/closed/active, CONNECT streams,
// CONNECT responses by status, handshake refusals by reason, keepalive timeouts and TLS bytes.
// Everything is read from counters at scrape time; nothing is computed per request.
import type { ExpositionWriter, MetricsSource } from '../observability/exposition.js';
import type { HboneStats } from './hbone-stats.js';

/** One direction: its counters and the byte counts of its connections still open. */
export interface HboneDirection {
  readonly stats: HboneStats;
  readonly openBytes: () => { readonly received: number; readonly sent: number };
}

export interface HboneMetricsSources {
  /** Undefined while the listener is not bound (no `--hbone-address`). */
  readonly inbound: () => HboneDirection | undefined;
  readonly outbound: HboneDirection;
}

export class HboneMetrics implements MetricsSource {
  readonly #sources: HboneMetricsSources;

  constructor(sources: HboneMetricsSources) {
    this.#sources = sources;
  }

  collect(w: ExpositionWriter): void {
    const dirs: Array<readonly [string, HboneDirection]> = [];
    const inbound = this.#sources.inbound();
    if (inbound !== undefined) dirs.push(['direction="inbound"', inbound]);
    dirs.push(['direction="outbound"', this.#sources.outbound]);
    const family = (name: string, type: 'counter' | 'gauge', help: string, value: (d: HboneDirection) => number): void => {
      w.family(name, type, help);
      for (const [label, d] of dirs) w.sample(name, label, value(d));
    };
    family('waypoint_hbone_tunnels_opened_total', 'counter', 'HBONE tunnel connections (mTLS + HTTP/2) established.', (d) => d.stats.sessionsOpened);
    family('waypoint_hbone_tunnels_closed_total', 'counter', 'HBONE tunnel connections closed.', (d) => d.stats.sessionsClosed);
    family('waypoint_hbone_tunnels_active', 'gauge', 'HBONE tunnel connections open.', (d) => d.stats.sessionsOpened - d.stats.sessionsClosed);
    family('waypoint_hbone_streams_opened_total', 'counter', 'CONNECT streams established (answered 200).', (d) => d.stats.streamsTotal);
    family('waypoint_hbone_streams_active', 'gauge', 'CONNECT streams open.', (d) => d.stats.streamsActive);
    family('waypoint_hbone_keepalive_timeouts_total', 'counter', 'Tunnel connections closed because the peer did not answer HTTP/2 PINGs.', (d) => d.stats.keepaliveTimeouts);
    family('waypoint_hbone_received_bytes_total', 'counter', 'Bytes received on HBONE tunnel connections (TLS records).', (d) => d.stats.closedBytesReceived + d.openBytes().received);
    family('waypoint_hbone_sent_bytes_total', 'counter', 'Bytes sent on HBONE tunnel connections (TLS records).', (d) => d.stats.closedBytesSent + d.openBytes().sent);

    w.family('waypoint_hbone_connect_responses_total', 'counter', 'CONNECT responses by status: answered by this waypoint (inbound) or by destinations (outbound).');
    for (const [label, d] of dirs) {
      for (const status of [...d.stats.connectResponses.keys()].sort((a, b) => a - b)) {
        w.sample('waypoint_hbone_connect_responses_total', `${label},status="${status}"`, d.stats.connectResponses.get(status) ?? 0);
      }
    }
    w.family('waypoint_hbone_connect_failures_total', 'counter', 'Outbound CONNECTs that got no response (tunnel connection failed, wrong identity, timeout).');
    w.sample('waypoint_hbone_connect_failures_total', 'direction="outbound"', this.#sources.outbound.stats.connectFailures);
    w.family('waypoint_hbone_handshakes_refused_total', 'counter', 'Tunnel handshakes refused, by reason (inbound: the peer; outbound: the destination).');
    for (const [label, d] of dirs) {
      for (const reason of [...d.stats.handshakeRefused.keys()].sort()) {
        w.sample('waypoint_hbone_handshakes_refused_total', `${label},reason="${escapeLabel(reason)}"`, d.stats.handshakeRefused.get(reason) ?? 0);
      }
    }
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
