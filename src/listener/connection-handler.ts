// Hands each accepted connection to the right protocol front end by the Service port's protocol:
// HTTP ports to the HTTP/1.1 or HTTP/2 server (per connection, by the HTTP/2 preface), TCP/TLS ports to
// the L4 proxy (TLSRoute/TCPRoute), undeclared ports after sniffing.
// HBONE tunnels will enter through `accept` with their own ConnectionContext.
import type http from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SnapshotStore } from '../config/store.js';
import type { ConnectionContext, ConnectionTable } from '../proxy/connection-context.js';
import type { L4Proxy } from '../l4/l4-proxy.js';
import type { EndpointRegistry } from '../upstream/endpoint-registry.js';
import type { Random } from '../upstream/load-balancer.js';
import type { Http2Front } from './http2-front.js';
import { detectProtocol } from './protocol-detect.js';
import { H1Connection, type H1ConnectionDeps } from './h1/h1-connection.js';

export interface ConnectionHandlerDeps {
  readonly store: SnapshotStore;
  readonly connections: ConnectionTable;
  readonly http1: http.Server;
  /** The fast HTTP/1.1 path for plain sockets (h1/h1-connection.ts); node:http serves what it hands off. */
  readonly fastHttp1: Omit<H1ConnectionDeps, 'handoff'> | undefined;
  readonly http2: Http2Front;
  readonly endpoints: EndpointRegistry;
  readonly random: Random;
  readonly connectTimeoutMs: number;
  readonly log: (message: string) => void;
  /** TLSRoute/TCPRoute routing and the TCP proxy for `tcp`/`tls` ports and non-HTTP traffic on undeclared ones. */
  readonly l4: L4Proxy;
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
      // Envoy's HTTP connection manager with codec AUTO: HTTP/2 prior knowledge or HTTP/1.1 on HTTP ports.
      case 'http':
      case 'http2':
      case 'grpc':
        this.#sniff(stream, ctx, 'http1');
        return;
      case 'tcp':
      case 'tls':
        this.#tcp(stream, ctx);
        return;
      case 'unknown':
        this.#sniff(stream, ctx, 'opaque');
        return;
    }
  }

  #http1(stream: Duplex): void {
    const fast = this.#deps.fastHttp1;
    if (fast !== undefined && stream instanceof Socket) {
      new H1Connection(stream, { ...fast, handoff: this.#nodeHttp1 });
      stream.resume();
      return;
    }
    this.#nodeHttp1(stream);
  }

  readonly #nodeHttp1 = (stream: Duplex): void => {
    this.#deps.http1.emit('connection', stream);
    // node:http reads a socket through its handle, but any other Duplex (an HBONE tunnel stream) through
    // 'data' events, which a stream paused while sniffing would never emit.
    stream.resume();
  };

  #tcp(stream: Duplex, ctx: ConnectionContext): void {
    const listener = this.#deps.store.current?.listeners.get(ctx.listenerKey);
    if (listener === undefined) {
      stream.destroy();
      return;
    }
    // L4 authorization (AuthorizationPolicy on TCP/TLS) runs inside L4Proxy through its `authorize` hook
    // (L4Authorizer, set in app/waypoint.ts): after the ClientHello's SNI is known, before any upstream.
    this.#deps.l4.handle(stream, ctx, listener);
  }

  /** Reads until the protocol is known; `fallback` is what a non-HTTP/2, non-HTTP/1 start means. */
  #sniff(stream: Duplex, ctx: ConnectionContext, fallback: 'http1' | 'opaque'): void {
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const detected = detectProtocol(head);
      if (detected === 'need-more' && head.length < SNIFF_LIMIT) return;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.pause();
      stream.unshift(head);
      if (detected === 'http2') this.#deps.http2.accept(stream, ctx);
      else if (detected === 'http1' || fallback === 'http1') this.#http1(stream);
      else this.#tcp(stream, ctx);
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
