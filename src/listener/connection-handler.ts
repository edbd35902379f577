// Hands each accepted connection to the right protocol front end by the Service port's protocol:
// HTTP ports to the HTTP server, TCP/TLS ports to the TCP forwarder, undeclared ports after sniffing.
// HBONE tunnels will enter through `accept` with their own ConnectionContext.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { SnapshotStore } from '../config/store.js';
import type { ConnectionContext, ConnectionTable } from '../proxy/connection-context.js';
import { forwardTcp } from '../proxy/tcp-forward.js';
import type { EndpointRegistry } from '../upstream/endpoint-registry.js';
import type { Random } from '../upstream/load-balancer.js';
import { detectProtocol } from './protocol-detect.js';

export interface ConnectionHandlerDeps {
  readonly store: SnapshotStore;
  readonly connections: ConnectionTable;
  readonly http1: http.Server;
  readonly endpoints: EndpointRegistry;
  readonly random: Random;
  readonly connectTimeoutMs: number;
  readonly log: (message: string) => void;
}

/** Bytes a client may send before the protocol is known; beyond that it is treated as opaque. */
const SNIFF_LIMIT = 64;

export class ConnectionHandler {
  readonly #deps: ConnectionHandlerDeps;

  constructor(deps: ConnectionHandlerDeps) {
    this.#deps = deps;
  }

  accept(stream: Duplex, ctx: ConnectionContext): void {
    const listener = this.#deps.store.current?.listeners.get(ctx.listenerKey);
    if (listener === undefined) {
      stream.destroy();
      return;
    }
    this.#deps.connections.add(stream, ctx);
    switch (listener.servicePort.protocol) {
      case 'http':
        this.#http1(stream);
        return;
      case 'tcp':
      case 'tls':
        this.#tcp(stream, ctx);
        return;
      case 'http2':
      case 'grpc':
      case 'unknown':
        this.#sniff(stream, ctx);
        return;
    }
  }

  #http1(stream: Duplex): void {
    this.#deps.http1.emit('connection', stream);
  }

  #tcp(stream: Duplex, ctx: ConnectionContext): void {
    const listener = this.#deps.store.current?.listeners.get(ctx.listenerKey);
    if (listener === undefined) {
      stream.destroy();
      return;
    }
    forwardTcp(stream, listener.servicePort.cluster, this.#deps.endpoints, this.#deps.random, { connectTimeoutMs: this.#deps.connectTimeoutMs });
  }

  #sniff(stream: Duplex, ctx: ConnectionContext): void {
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const detected = detectProtocol(head);
      if (detected === 'need-more' && head.length < SNIFF_LIMIT) return;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.pause();
      stream.unshift(head);
      if (detected === 'http1') this.#http1(stream);
      else if (detected === 'http2') {
        this.#deps.log(`HTTP/2 connection on ${ctx.listenerKey} refused: HTTP/2 downstream is not supported yet`);
        stream.destroy();
      } else this.#tcp(stream, ctx);
    };
    const onEnd = (): void => {
      stream.off('data', onData);
      stream.destroy();
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.on('error', () => stream.destroy());
  }
}
