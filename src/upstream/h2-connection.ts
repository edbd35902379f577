// One multiplexed HTTP/2 (h2c, prior knowledge) connection to an upstream endpoint: stream capacity
// from the peer's SETTINGS_MAX_CONCURRENT_STREAMS, GOAWAY draining, PING liveness and idle close.
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface H2ConnectionOptions {
  readonly connectTimeoutMs: number;
  /** Close the connection after this long without streams. */
  readonly idleTimeoutMs: number;
  /** Send a PING this often; 0 disables liveness checks. */
  readonly pingIntervalMs: number;
  /** A PING unanswered for this long closes the connection (its streams fail). */
  readonly pingTimeoutMs: number;
  /**
   * Opens the transport instead of a TCP connection: an HBONE tunnel stream for ambient endpoints. It must
   * emit `connect` once usable (the CONNECT was answered 200); node:http2 wraps a non-socket Duplex in a
   * JSStreamSocket and starts the session at once, so readiness waits for that event as well.
   */
  readonly dial?: () => Duplex;
  /** DestinationRule connectionPool.http.maxConcurrentStreams: streams opened per connection at most. */
  readonly maxConcurrentStreams?: number;
}

/** Streams assumed allowed before the peer's SETTINGS arrive (RFC 9113 §6.5.2 recommends at least 100). */
const INITIAL_STREAM_LIMIT = 100;

export type H2ConnectionState = 'connecting' | 'ready' | 'draining' | 'closed';

export interface H2ConnectionEvents {
  /** Capacity may have changed (connected, SETTINGS, a stream closed): queued requests can go. */
  onCapacity(conn: H2Connection): void;
  /** The connection can take no more streams, ever (GOAWAY, error, close). */
  onGone(conn: H2Connection): void;
  /** The session is closed: nothing of it is left. */
  onClosed(conn: H2Connection): void;
}

export class H2Connection {
  readonly session: http2.ClientHttp2Session;
  state: H2ConnectionState = 'connecting';
  /** Streams opened and not yet closed. */
  active = 0;
  /** The error that ended the connection before it was ready, for requests waiting on it. */
  failure: Error | undefined = undefined;
  /** True once the connection was established (a failure before that is a connect failure). */
  connected = false;
  /** Highest stream id the peer said it processed (GOAWAY), or undefined. */
  goawayLastStreamId: number | undefined = undefined;
  readonly #options: H2ConnectionOptions;
  readonly #events: H2ConnectionEvents;
  #connectTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined = undefined;
  #pingTimer: NodeJS.Timeout | undefined = undefined;
  #pingOutstanding = false;
  /** A dialled transport (HBONE tunnel) that has not emitted `connect` yet; the session waits for it. */
  #transportPending = false;
  #sessionConnected = false;

  constructor(host: string, port: number, options: H2ConnectionOptions, events: H2ConnectionEvents) {
    this.#options = options;
    this.#events = events;
    const authority = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.session = http2.connect(authority, {
      createConnection: () => {
        const dial = options.dial;
        if (dial === undefined) return net.connect({ host, port, noDelay: true });
        const transport = dial();
        this.#transportPending = true;
        transport.once('connect', () => {
          this.#transportPending = false;
          if (this.#sessionConnected) this.#onConnect();
        });
        return transport;
      },
      settings: { enablePush: false },
      // Memory per connection is bounded; beyond it nghttp2 answers ENHANCE_YOUR_CALM.
      maxSessionMemory: 32,
    });
    this.#connectTimer = setTimeout(() => this.#fail(Object.assign(new Error('upstream connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), options.connectTimeoutMs);
    this.#connectTimer.unref();
    const s = this.session;
    s.once('connect', () => {
      this.#sessionConnected = true;
      if (!this.#transportPending) this.#onConnect();
    });
    s.on('remoteSettings', this.#onSettings);
    s.on('goaway', this.#onGoaway);
    s.on('error', this.#fail);
    s.once('close', this.#onClose);
  }

  /** Streams this connection may still open now. */
  get capacity(): number {
    if (this.state === 'draining' || this.state === 'closed' || this.session.closed || this.session.destroyed) return 0;
    const limit = this.state === 'ready' ? this.session.remoteSettings.maxConcurrentStreams ?? INITIAL_STREAM_LIMIT : INITIAL_STREAM_LIMIT;
    return Math.min(limit, INITIAL_STREAM_LIMIT * 10, this.#options.maxConcurrentStreams ?? Infinity) - this.active;
  }

  streamOpened(): void {
    this.active++;
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
  }

  streamClosed(): void {
    this.active--;
    if (this.state === 'draining' && this.active === 0) {
      this.session.close();
      return;
    }
    if (this.active === 0 && this.state === 'ready') {
      this.#idleTimer = setTimeout(() => this.close(), this.#options.idleTimeoutMs);
      this.#idleTimer.unref();
    }
    this.#events.onCapacity(this);
  }

  /** Graceful: no new streams; the session closes when its streams are done. */
  close(): void {
    if (this.state === 'closed') return;
    this.#setDraining();
    if (this.active === 0) this.session.close();
  }

  destroy(): void {
    this.#clearTimers();
    this.state = 'closed';
    this.session.destroy();
  }

  readonly #onConnect = (): void => {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    if (this.state !== 'connecting') return;
    this.state = 'ready';
    this.connected = true;
    if (this.#options.pingIntervalMs > 0) {
      this.#pingTimer = setInterval(this.#ping, this.#options.pingIntervalMs);
      this.#pingTimer.unref();
    }
    if (this.active === 0) {
      this.#idleTimer = setTimeout(() => this.close(), this.#options.idleTimeoutMs);
      this.#idleTimer.unref();
    }
    this.#events.onCapacity(this);
  };

  readonly #onSettings = (): void => {
    this.#events.onCapacity(this);
  };

  /** RFC 9113 §6.8: streams above `lastStreamID` were not processed and may be retried elsewhere. */
  readonly #onGoaway = (_code: number, lastStreamID: number): void => {
    this.goawayLastStreamId = lastStreamID;
    this.#setDraining();
  };

  readonly #ping = (): void => {
    if (this.#pingOutstanding || this.state === 'closed') return;
    this.#pingOutstanding = true;
    const timer = setTimeout(() => this.#fail(Object.assign(new Error('upstream PING timeout'), { code: 'H2_PING_TIMEOUT' })), this.#options.pingTimeoutMs);
    timer.unref();
    const sent = this.session.ping((err) => {
      clearTimeout(timer);
      this.#pingOutstanding = false;
      if (err !== null && this.state !== 'closed') this.#fail(err);
    });
    if (!sent) {
      clearTimeout(timer);
      this.#pingOutstanding = false;
    }
  };

  readonly #fail = (err: Error): void => {
    if (this.state === 'closed') return;
    this.failure ??= err;
    this.#clearTimers();
    const wasUsable = this.state === 'connecting' || this.state === 'ready';
    this.state = 'closed';
    this.session.destroy(err);
    if (wasUsable) this.#events.onGone(this);
  };

  readonly #onClose = (): void => {
    this.#clearTimers();
    const wasUsable = this.state === 'connecting' || this.state === 'ready';
    this.failure ??= Object.assign(new Error('upstream connection closed'), { code: 'EPIPE' });
    this.state = 'closed';
    if (wasUsable) this.#events.onGone(this);
    this.#events.onClosed(this);
  };

  #setDraining(): void {
    if (this.state === 'draining' || this.state === 'closed') return;
    this.state = 'draining';
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#events.onGone(this);
  }

  #clearTimers(): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#idleTimer);
    clearInterval(this.#pingTimer);
    this.#connectTimer = undefined;
    this.#idleTimer = undefined;
    this.#pingTimer = undefined;
  }
}
