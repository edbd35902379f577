// Test-only front door that gives connections a workload identity: a loopback server whose sockets are
// fed to Waypoint.accept with a SPIFFE principal, as an HBONE tunnel would (HBONE itself is tested apart).
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Waypoint } from '../../src/app/waypoint.js';

export interface IdentityDoor {
  readonly port: number;
  close(): Promise<void>;
}

/** Connections to `127.0.0.1:<port>` arrive at `listenerKey` as `spiffe://cluster.local/ns/<ns>/sa/<sa>`. */
export async function identityDoor(waypoint: Waypoint, listenerKey: string, principal: string | undefined): Promise<IdentityDoor> {
  const ns = principal === undefined ? undefined : /\/ns\/([^/]+)\//.exec(principal)?.[1];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    waypoint.accept(socket, { listenerKey, remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0, sourceNamespace: ns, peerPrincipal: principal });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
