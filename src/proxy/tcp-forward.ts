// Opaque TCP through the waypoint: one upstream connection per downstream connection, bytes piped
// both ways with backpressure and half-close.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClusterConfig } from '../config/snapshot.js';
import type { EndpointRegistry } from '../upstream/endpoint-registry.js';
import { pickEndpoint, type Random } from '../upstream/load-balancer.js';

export interface TcpForwardOptions {
  readonly connectTimeoutMs: number;
}

export function forwardTcp(downstream: Duplex, cluster: ClusterConfig, endpoints: EndpointRegistry, random: Random, options: TcpForwardOptions): void {
  const endpoint = pickEndpoint(cluster, endpoints, random);
  const target = endpoint === undefined ? undefined : cluster.endpoints.find((e) => e.key === endpoint.key);
  if (endpoint === undefined || target === undefined) {
    downstream.destroy();
    return;
  }
  endpoint.active++;
  const upstream = net.connect({ host: target.address, port: target.port, allowHalfOpen: true, noDelay: true });
  const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), options.connectTimeoutMs);
  upstream.once('connect', () => clearTimeout(timer));
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    endpoint.active--;
    upstream.destroy();
    downstream.destroy();
  };
  downstream.on('error', close);
  upstream.on('error', close);
  downstream.pipe(upstream);
  upstream.pipe(downstream);
  // Each side's end is forwarded by pipe (half-close); the pair is torn down once both are closed.
  let ended = 0;
  const onEnded = (): void => {
    if (++ended === 2) close();
  };
  downstream.once('close', onEnded);
  upstream.once('close', onEnded);
}
