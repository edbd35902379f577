// HTTP/2 keepalive for HBONE sessions (both directions): a PING every interval; a peer that does not
// answer within the timeout (gone, or not reading what we send) has its session destroyed, which
// frees everything buffered for it. Istio's waypoint uses 10 s / 20 s.
import type { Http2Session } from 'node:http2';

export interface KeepaliveOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export const DEFAULT_KEEPALIVE: KeepaliveOptions = { intervalMs: 10_000, timeoutMs: 20_000 };

export function keepAlive(session: Http2Session, options: KeepaliveOptions, onTimeout: () => void): void {
  let outstanding = 0; // ms timestamp of the unanswered PING, 0 when none
  const tick = (): void => {
    if (session.destroyed || session.closed) return;
    const now = Date.now();
    if (outstanding !== 0) {
      if (now - outstanding >= options.timeoutMs) {
        onTimeout();
        session.destroy();
      }
      return;
    }
    outstanding = now;
    const sent = session.ping((err) => {
      if (err === null) outstanding = 0;
    });
    if (!sent) outstanding = 0; // too many outstanding pings or session closing: try again next tick
  };
  const period = Math.max(10, Math.min(options.intervalMs, Math.ceil(options.timeoutMs / 2)));
  let last = Date.now();
  const timer = setInterval(() => {
    // Send at the configured interval; check the deadline every period.
    if (outstanding !== 0 || Date.now() - last >= options.intervalMs) {
      last = Date.now();
      tick();
    }
  }, period);
  timer.unref();
  session.once('close', () => clearInterval(timer));
}
