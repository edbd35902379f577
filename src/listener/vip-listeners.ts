// Local VIP listeners: one TCP server per `clusterIP:port` of each enrolled Service with a loopback VIP,
// reconciled against every new snapshot (new keys bound, removed keys stop accepting; open connections stay).
import net from 'node:net';
import type { Snapshot } from '../config/snapshot.js';
import { exclusiveDataPlaneListen } from '../cluster/listen-mode.js';

export interface BindFailure {
  readonly key: string;
  readonly service: string;
  readonly message: string;
}

export type AcceptFn = (socket: net.Socket, listenerKey: string) => void;

export class VipListenerSet {
  readonly #servers = new Map<string, net.Server>();
  readonly #accept: AcceptFn;

  constructor(accept: AcceptFn) {
    this.#accept = accept;
  }

  get keys(): ReadonlyArray<string> {
    return [...this.#servers.keys()];
  }

  async reconcile(snapshot: Snapshot): Promise<BindFailure[]> {
    for (const [key, server] of this.#servers) {
      if (snapshot.listeners.has(key)) continue;
      this.#servers.delete(key);
      server.close();
    }
    const failures: BindFailure[] = [];
    const binds: Promise<void>[] = [];
    for (const listener of snapshot.listeners.values()) {
      if (this.#servers.has(listener.key) || listener.tunnelOnly === true) continue;
      binds.push(
        this.#bind(listener.key, listener.address, listener.port).catch((err: unknown) => {
          failures.push({ key: listener.key, service: listener.service.key, message: bindErrorText(err, listener.key, listener.service.key) });
        }),
      );
    }
    await Promise.all(binds);
    return failures;
  }

  #bind(key: string, address: string, port: number): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket, key));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port, exclusive: exclusiveDataPlaneListen }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        this.#servers.set(key, server);
        resolve();
      });
    });
  }

  /** Stops accepting on every VIP; accepted connections are left to drain. */
  async close(): Promise<void> {
    // server.close() stops listening at once; its callback waits for every accepted connection, which
    // is what draining handles (an idle or dead client connection must not hold up the stop).
    for (const s of this.#servers.values()) s.close();
    this.#servers.clear();
  }
}

function bindErrorText(err: unknown, key: string, service: string): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === 'EADDRINUSE') return `cannot listen on ${key} for Service ${service}: address already in use (another process or Service holds it; pick another clusterIP or stop the other process)`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${key} for Service ${service}: address not available on this machine`;
  if (code === 'EACCES') return `cannot listen on ${key} for Service ${service}: permission denied (ports below 1024 need privileges)`;
  return `cannot listen on ${key} for Service ${service}: ${err instanceof Error ? err.message : String(err)}`;
}
