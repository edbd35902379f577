// Admin and metrics HTTP servers: /healthz/ready, /config_dump, /stats/prometheus.
// The admin server binds loopback by default; the metrics server is what Prometheus scrapes (15020).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dumpSnapshot } from '../config/dump.js';
import type { SnapshotStore } from '../config/store.js';
import type { Diagnostic } from '../config/diagnostics.js';
import { CONTENT_TYPE, type MetricsSource, negotiateFormat, render } from '../observability/exposition.js';
import type { RequestRing } from '../debug/request-ring.js';
import type { Logger } from '../observability/logger.js';
import { debugRequests, debugTap, logging } from './debug-routes.js';
import type { TapHub } from '../debug/tap-hub.js';
import type { TrafficRecorder } from '../debug/traffic-stats.js';
import type { AdminExposure } from './admin-exposure.js';
import { dashboardRoutes, servePage, wantsHtml } from './dashboard-routes.js';

export interface AdminDeps {
  readonly store: SnapshotStore;
  /** Everything scraped at /stats/prometheus, in order (the waypoint's own metrics, then Istio's). */
  readonly metrics: ReadonlyArray<MetricsSource>;
  readonly ready: () => boolean;
  /** Diagnostics of the latest load, which may be newer than the live snapshot's. */
  readonly latestDiagnostics: () => ReadonlyArray<Diagnostic>;
  /** Recent requests with their decision traces (/debug/requests); absent: the endpoint answers 404. */
  readonly requests?: RequestRing;
  /** Live decision-trace stream (/debug/tap). */
  readonly tap?: TapHub;
  /** The application logger whose level /logging changes. */
  readonly log?: Logger;
  /** Live outlier-detection state per cluster (DestinationRule outlierDetection), kept outside the snapshot. */
  readonly endpointHealth?: () => unknown;
  /** Rolling per-Service and per-route traffic and recent failures (/debug/stats, the dashboard). */
  readonly traffic?: TrafficRecorder;
  /** Where the admin server is bound, once it is (the dashboard warns when not on loopback). */
  readonly exposure?: () => AdminExposure | undefined;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function adminHandler(deps: AdminDeps): Handler {
  const routes: Record<string, Handler> = {
    '/': (req, res) => (wantsHtml(req) ? servePage(res) : send(res, 200, 'text/plain', 'waypoint admin\n\n/dashboard\n/healthz/ready\n/config_dump\n/stats/prometheus\n/debug/summary\n/debug/stats?window=&points=\n/debug/requests?service=&status=&limit=\n/debug/tap?service=&path=&status=\n/logging?level=\n')),
    '/healthz/ready': (_req, res) => readiness(deps, res),
    '/config_dump': (_req, res) => {
      const snapshot = deps.store.current;
      if (snapshot === undefined) return send(res, 503, 'application/json', `${JSON.stringify({ error: 'no configuration loaded yet', diagnostics: deps.latestDiagnostics() }, null, 2)}\n`);
      const dump = { ...dumpSnapshot(snapshot), ...(deps.endpointHealth === undefined ? {} : { endpointHealth: deps.endpointHealth() }), latestDiagnostics: deps.latestDiagnostics() };
      send(res, 200, 'application/json', `${JSON.stringify(dump, null, 2)}\n`);
    },
    '/stats/prometheus': (req, res) => scrape(deps, req, res),
    '/debug/requests': (req, res) => debugRequests(deps.requests, req, res, send),
    '/logging': (req, res) => logging(deps.log, req, res, send),
    '/debug/tap': (req, res) => debugTap(deps.tap, req, res, send),
    ...dashboardRoutes(deps, send),
  };
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (route === undefined || (req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && path === '/logging'))) return send(res, 404, 'text/plain', 'not found\n');
    route(req, res);
  };
}

export function metricsHandler(deps: AdminDeps): Handler {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/stats/prometheus') return scrape(deps, req, res);
    if (path === '/healthz/ready') return readiness(deps, res);
    send(res, 404, 'text/plain', 'not found\n');
  };
}

/** Prometheus text, or OpenMetrics when the scraper's `Accept` asks for it (Prometheus does by default). */
function scrape(deps: AdminDeps, req: http.IncomingMessage, res: http.ServerResponse): void {
  const format = negotiateFormat(req.headers.accept);
  send(res, 200, CONTENT_TYPE[format], render(format, deps.metrics));
}

function readiness(deps: AdminDeps, res: http.ServerResponse): void {
  if (deps.ready()) send(res, 200, 'text/plain', 'ready\n');
  else send(res, 503, 'text/plain', 'not ready\n');
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT`, `:PORT` (all interfaces) or `[v6]:PORT`. */
export function parseHostPort(value: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] === '' || m[2] === undefined ? '0.0.0.0' : m[2]), port };
}

export function listenHttp(handler: Handler, at: HostPort, what: string): Promise<http.Server> {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(err.code === 'EADDRINUSE'
        ? `cannot start the ${what} server on ${at.host}:${at.port}: address already in use (choose another with the matching --${what}-address flag)`
        : `cannot start the ${what} server on ${at.host}:${at.port}: ${err.message}`));
    });
    // Exclusive: in a cluster worker (--workers) each worker's admin server is its own, never shared.
    server.listen({ port: at.port, host: at.host, exclusive: true }, () => resolve(server));
  });
}

export function boundAddress(server: http.Server): string {
  const a = server.address() as AddressInfo;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
