// The seam between endpoint pools and HBONE outbound: for an ambient endpoint, an undici `connect`
// function whose connections are tunnel streams, and an opener for raw (TCP) tunnel streams.
import type { Socket } from 'node:net';
import { type Duplex, PassThrough } from 'node:stream';
import type { buildConnector } from 'undici';
import type { EndpointConfig } from '../config/snapshot.js';
import type { HboneClient, TunnelTarget } from './hbone-client.js';

/** undici's custom connector shape (`Pool` option `connect`). */
export type PoolConnector = buildConnector.connector;

export interface EndpointTunnel {
  /** For the HTTP/1.1 pool: each pooled connection is a new CONNECT stream. */
  readonly connect: PoolConnector;
  /** For TCP proxying: a stream that emits `connect` once the destination accepted the CONNECT. */
  readonly open: () => Duplex;
}

export interface UpstreamTunnels {
  /** The tunnel for an endpoint marked `hbone` (ambient), undefined when HBONE outbound is unavailable. */
  forEndpoint(endpoint: EndpointConfig): EndpointTunnel | undefined;
}

export class HboneUpstreams implements UpstreamTunnels {
  readonly #client: HboneClient;

  constructor(client: HboneClient) {
    this.#client = client;
  }

  forEndpoint(endpoint: EndpointConfig): EndpointTunnel | undefined {
    const peer = endpoint.hbone;
    if (peer === undefined) return undefined;
    const target: TunnelTarget = { address: endpoint.address, port: endpoint.port, peer };
    const client = this.#client;
    const connector = client.connector(target);
    return {
      // undici only reads and writes the socket it is given; a tunnel stream is a Duplex like a socket.
      connect: (opts, cb) => {
        try {
          connector(opts, (err, stream) => (err === null ? cb(null, stream as unknown as Socket) : cb(err, null)));
        } catch (err) {
          cb(err instanceof Error ? err : new Error(String(err)), null);
        }
      },
      open: () => {
        try {
          return client.open(target);
        } catch (err) {
          // The client is closed (shutting down): a stream that fails like a refused connection.
          const failed = new PassThrough();
          process.nextTick(() => failed.destroy(err instanceof Error ? err : new Error(String(err))));
          return failed;
        }
      },
    };
  }
}

/** `plain` or the expected HBONE identity: a change of it needs a new pool for the same `ip:port`. */
export function transportOf(endpoint: EndpointConfig): string {
  return endpoint.hbone === undefined ? 'plain' : `hbone:${endpoint.hbone.namespace}/${endpoint.hbone.serviceAccount ?? '*'}`;
}
