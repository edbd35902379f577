// Readiness on its own port (Istio's 15021), bound before the configuration exists so the kubelet
// sees 503 rather than a refused connection while the waypoint syncs with the API server.
import type http from 'node:http';
import { type HostPort, listenHttp } from '../admin/admin-server.js';

export async function startHealthServer(at: HostPort, ready: () => boolean): Promise<http.Server> {
  return listenHttp((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const [status, body] = path !== '/healthz/ready' ? [404, 'not found\n'] : ready() ? [200, 'ready\n'] : [503, 'not ready\n'];
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }, at, 'health');
}

export function closeHealthServer(server: http.Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
