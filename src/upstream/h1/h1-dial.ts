// How the HTTP/1.1 pool opens a connection to its endpoint: plain TCP, TLS origination (node:tls options), or a
// connector function `(opts, cb)` (HBONE tunnel streams, `waypoint explain`'s stub), under the connect timeout.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { PoolConnector } from '../../hbone/upstream-tunnels.js';
import { CONNECT_TIMEOUT, h1Error } from './h1-errors.js';

/** node:tls options for TLS origination and TCP keepalive (the shape undici's `connect` options had). */
export interface DialOptions extends Omit<tls.ConnectionOptions, 'host' | 'port' | 'socket'> {
  readonly keepAlive?: boolean;
  readonly keepAliveInitialDelay?: number;
}

export type H1Connect = PoolConnector | DialOptions;

export interface DialTarget {
  /** IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** TLS origination: options given as an object mean `tls.connect` rather than `net.connect`. */
  readonly tls: boolean;
  readonly connect: H1Connect | undefined;
  readonly connectTimeoutMs: number;
}

export type DialCallback = (err: Error | null, socket: Duplex | null) => void;

/** undici's default TCP keepalive (SO_KEEPALIVE after 60 s idle), kept so long-idle pooled connections are probed. */
const DEFAULT_KEEPALIVE_DELAY_MS = 60_000;

/** Opens one connection; `cb` is called exactly once, with the socket ready for the request head. */
export function dial(target: DialTarget, cb: DialCallback): void {
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  const settle = (err: Error | null, socket: Duplex | null): void => {
    if (settled) {
      // Late: the timeout already failed the attempt.
      socket?.destroy();
      return;
    }
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
    cb(err, socket);
  };
  const connect = target.connect;
  if (typeof connect === 'function') {
    if (target.connectTimeoutMs > 0) timer = setTimeout(settle, target.connectTimeoutMs, h1Error('connect timeout', CONNECT_TIMEOUT), null);
    try {
      const hostname = target.host;
      connect({ hostname, host: hostname, protocol: target.tls ? 'https:' : 'http:', port: String(target.port), servername: undefined, localAddress: null, httpSocket: undefined } as unknown as Parameters<PoolConnector>[0], (err, socket) => {
        if (err !== null || socket === null) settle(err ?? new Error('no connection'), null);
        else settle(null, socket as unknown as Duplex);
      });
    } catch (err) {
      settle(err instanceof Error ? err : new Error(String(err)), null);
    }
    return;
  }
  const options = connect ?? {};
  const { keepAlive, keepAliveInitialDelay, ...rest } = options;
  const socket: net.Socket = target.tls
    ? tls.connect({ ...rest, host: target.host, port: target.port })
    : net.connect({ host: target.host, port: target.port });
  const ready = target.tls ? 'secureConnect' : 'connect';
  const onError = (err: Error): void => {
    socket.destroy();
    settle(err, null);
  };
  socket.once('error', onError);
  socket.once(ready, () => {
    socket.off('error', onError);
    if (keepAlive !== false) socket.setKeepAlive(true, keepAliveInitialDelay ?? DEFAULT_KEEPALIVE_DELAY_MS);
    settle(null, socket);
  });
  if (target.connectTimeoutMs > 0) {
    timer = setTimeout(() => {
      socket.destroy();
      settle(h1Error('connect timeout', CONNECT_TIMEOUT), null);
    }, target.connectTimeoutMs);
  }
}
