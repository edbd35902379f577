// Admin routes of the dashboard: the page and its assets (served from memory, no CDN), `/debug/summary`
// and `/debug/stats`. Responses are cached briefly and shared by every client, so polling dashboards
// cost one computation per interval however many there are, and never touch the request path.
import type http from 'node:http';
import type { Diagnostic } from '../config/diagnostics.js';
import type { SnapshotStore } from '../config/store.js';
import type { TrafficRecorder } from '../debug/traffic-stats.js';
import type { AdminExposure } from './admin-exposure.js';
import { CHARTS_JS } from './dashboard/charts-js.js';
import { DASHBOARD_CSS } from './dashboard/dashboard-css.js';
import { DASHBOARD_HTML } from './dashboard/dashboard-html.js';
import { DASHBOARD_JS } from './dashboard/dashboard-js.js';
import { buildSummary } from './mesh-summary.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type Send = (res: http.ServerResponse, status: number, type: string, body: string) => void;

export interface DashboardDeps {
  readonly store: SnapshotStore;
  readonly latestDiagnostics: () => ReadonlyArray<Diagnostic>;
  readonly traffic?: TrafficRecorder;
  readonly exposure?: () => AdminExposure | undefined;
}

/** How long a /debug/stats body is reused (the dashboard polls every second). */
const STATS_TTL_MS = 500;
/** Everything the page loads comes from here; nothing inline, nothing remote. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function dashboardRoutes(deps: DashboardDeps, send: Send): Record<string, Handler> {
  const page: Handler = (_req, res) => asset(res, 'text/html; charset=utf-8', DASHBOARD_HTML);
  let summaryCache: { snapshot: unknown; diagnostics: unknown; exposure: unknown; body: string } | undefined;
  const statsCache = new Map<string, { at: number; body: string }>();
  return {
    '/dashboard': page,
    '/dashboard/dashboard.js': (_req, res) => asset(res, 'text/javascript; charset=utf-8', DASHBOARD_JS),
    '/dashboard/charts.js': (_req, res) => asset(res, 'text/javascript; charset=utf-8', CHARTS_JS),
    '/dashboard/dashboard.css': (_req, res) => asset(res, 'text/css; charset=utf-8', DASHBOARD_CSS),
    '/debug/summary': (_req, res) => {
      const snapshot = deps.store.current;
      const diagnostics = deps.latestDiagnostics();
      const exposure = deps.exposure?.();
      if (summaryCache === undefined || summaryCache.snapshot !== snapshot || summaryCache.diagnostics !== diagnostics || summaryCache.exposure !== exposure) {
        summaryCache = { snapshot, diagnostics, exposure, body: `${JSON.stringify(buildSummary(snapshot, diagnostics, exposure))}\n` };
      }
      json(res, summaryCache.body);
    },
    '/debug/stats': (req, res) => {
      const traffic = deps.traffic;
      if (traffic === undefined) return send(res, 404, 'text/plain', 'traffic stats are off\n');
      const q = new URL(req.url ?? '/', 'http://admin').searchParams;
      const window = intParam(q.get('window'), 10);
      const points = intParam(q.get('points'), 60);
      if (window === undefined || points === undefined || window < 1 || window > 60 || points > 60) {
        return send(res, 400, 'text/plain', 'window must be 1..60 and points 0..60 (seconds)\n');
      }
      // `buckets=1` adds the latency histograms (a cluster primary merges workers' stats with them).
      const buckets = q.get('buckets') === '1';
      const key = `${window}:${points}:${buckets}`;
      const now = Date.now();
      let cached = statsCache.get(key);
      if (cached === undefined || now - cached.at >= STATS_TTL_MS) {
        cached = { at: now, body: `${JSON.stringify(traffic.read(window, points, buckets))}\n` };
        statsCache.set(key, cached);
      }
      json(res, cached.body);
    },
  };
}

/** `/` for a browser (Accept: text/html) is the dashboard; anything else keeps the plain-text index. */
export function wantsHtml(req: http.IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

export function servePage(res: http.ServerResponse): void {
  asset(res, 'text/html; charset=utf-8', DASHBOARD_HTML);
}

function asset(res: http.ServerResponse, type: string, body: string): void {
  res.writeHead(200, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}

function json(res: http.ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function intParam(text: string | null, fallback: number): number | undefined {
  if (text === null || text === '') return fallback;
  return /^\d{1,3}$/.test(text) ? Number(text) : undefined;
}
