// One proxied TCP connection, as Envoy's tcp_proxy runs it: the downstream is not read until the upstream
// is connected (bounded by the connect timeout), then bytes flow both ways with backpressure, each FIN is
// forwarded on its own (half-close), inactivity beyond the idle timeout closes both, and bytes are counted.
import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface TcpProxySettings {
  readonly connectTimeoutMs: number;
  /** Envoy tcp_proxy `idle_timeout` (Istio's default: 1 hour); 0 disables it. */
  readonly idleTimeoutMs: number;
}

/** What the proxy updates while bytes flow; the L4 connection record implements it. */
export interface TcpCounters {
  bytesReceived: number;
  bytesSent: number;
  upstreamConnected: boolean;
}

export type TcpProxyEnd =
  /** Both sides closed normally (each FIN forwarded, all bytes delivered). */
  | { readonly kind: 'completed' }
  | { readonly kind: 'connect-failed'; readonly details: 'upstream_connection_failure' | 'upstream_connection_timeout' }
  | { readonly kind: 'upstream-reset' }
  | { readonly kind: 'downstream-reset' }
  | { readonly kind: 'idle-timeout' };

/**
 * Opens the upstream socket; injectable so tests can stand in a peer that never answers. Any Duplex that
 * emits `connect` when usable will do (an HBONE tunnel stream for ambient endpoints).
 */
export type Connector = (host: string, port: number) => Duplex;

export const connectTcp: Connector = (host, port) => net.connect({ host, port, allowHalfOpen: true, noDelay: true });

/** How long a side that is being closed after its peer went away may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Proxies `downstream` (paused; nothing of it read yet except `head`, which the caller has counted) to
 * `host:port`. `done` is called exactly once, after both sides are closed.
 */
export function proxyTcp(
  downstream: Duplex,
  head: Buffer,
  host: string,
  port: number,
  settings: TcpProxySettings,
  counters: TcpCounters,
  done: (end: TcpProxyEnd) => void,
  connect: Connector = connectTcp,
): void {
  const upstream = connect(host, port);
  let end: TcpProxyEnd | undefined;
  let downEnded = false;
  let upEnded = false;
  let downClosed = downstream.destroyed;
  let upClosed = false;
  let lastActivity = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  const setEnd = (e: TcpProxyEnd): void => {
    end ??= e;
  };
  const connectTimer = setTimeout(() => {
    setEnd({ kind: 'connect-failed', details: 'upstream_connection_timeout' });
    upstream.destroy();
  }, settings.connectTimeoutMs);

  const finishIfClosed = (): void => {
    if (!downClosed || !upClosed) return;
    clearTimeout(connectTimer);
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    done(end ?? { kind: 'completed' });
  };

  const onDownData = (chunk: Buffer): void => {
    counters.bytesReceived += chunk.length;
    lastActivity = Date.now();
    if (upstream.destroyed || upstream.writableEnded) return;
    if (!upstream.write(chunk)) downstream.pause();
  };
  const onUpData = (chunk: Buffer): void => {
    counters.bytesSent += chunk.length;
    lastActivity = Date.now();
    if (downstream.destroyed || downstream.writableEnded) return;
    if (!downstream.write(chunk)) upstream.pause();
  };
  // Half-close: each side's FIN is forwarded alone; the other direction keeps flowing.
  const onDownEnd = (): void => {
    downEnded = true;
    if (!upstream.destroyed) upstream.end();
  };
  const onUpEnd = (): void => {
    upEnded = true;
    if (!downstream.destroyed) downstream.end();
  };

  upstream.once('connect', () => {
    clearTimeout(connectTimer);
    counters.upstreamConnected = true;
    if (downClosed) return;
    if (head.length > 0) upstream.write(head);
    lastActivity = Date.now();
    downstream.on('data', onDownData);
    downstream.once('end', onDownEnd);
    upstream.on('data', onUpData);
    upstream.once('end', onUpEnd);
    upstream.on('drain', () => downstream.resume());
    downstream.on('drain', () => upstream.resume());
    if (settings.idleTimeoutMs > 0) armIdle(settings.idleTimeoutMs);
    downstream.resume();
  });

  const armIdle = (delay: number): void => {
    idleTimer = setTimeout(() => {
      const idleFor = Date.now() - lastActivity;
      if (idleFor < settings.idleTimeoutMs) return armIdle(settings.idleTimeoutMs - idleFor);
      // Envoy closes both connections without flushing on idle timeout.
      setEnd({ kind: 'idle-timeout' });
      upstream.destroy();
      downstream.destroy();
    }, delay);
    idleTimer.unref();
  };

  upstream.on('error', () => {
    setEnd(counters.upstreamConnected ? { kind: 'upstream-reset' } : { kind: 'connect-failed', details: 'upstream_connection_failure' });
  });
  downstream.on('error', () => setEnd({ kind: 'downstream-reset' }));

  upstream.once('close', () => {
    upClosed = true;
    // The upstream went away before both directions were done (reset, crash, connect failure): flush
    // what was already written to the client, then close it (Envoy's FlushWrite close).
    if (!(downEnded && upEnded)) closeAfterFlush(downstream);
    finishIfClosed();
  });
  downstream.once('close', () => {
    downClosed = true;
    if (!(downEnded && upEnded)) {
      setEnd({ kind: 'downstream-reset' });
      if (counters.upstreamConnected) closeAfterFlush(upstream);
      else upstream.destroy();
    }
    finishIfClosed();
  });
  if (downClosed) {
    setEnd({ kind: 'downstream-reset' });
    upstream.destroy();
  }
}

/** Ends `s` once its pending writes are flushed (FIN), discarding anything it still sends, then destroys it. */
export function closeAfterFlush(s: Duplex): void {
  if (s.destroyed) return;
  s.resume();
  if (s.writableFinished || !s.writable) {
    s.destroy();
    return;
  }
  s.once('finish', () => s.destroy());
  if (!s.writableEnded) s.end();
  const timer = setTimeout(() => s.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  s.once('close', () => clearTimeout(timer));
}
