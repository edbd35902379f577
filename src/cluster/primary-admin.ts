// The public admin and metrics endpoints of a cluster primary: readiness and /workers from the primary's own
// view, /stats/prometheus merged from every worker's own admin server, anything else (config_dump, debug,
// dashboard) relayed to one worker; every worker serves the same config generation once it is applied.
import http from 'node:http';
import { mergePrometheusText } from './prometheus-merge.js';

export interface WorkerView {
  readonly id: number;
  readonly pid: number | undefined;
  readonly ready: boolean;
  readonly generation: number;
  readonly fingerprint: string;
  readonly adminPort: number | undefined;
}

export interface PrimaryState {
  readonly ready: () => boolean;
  /** The latest generation asked for and the latest one every worker has applied (same fingerprint). */
  readonly generation: () => number;
  readonly appliedGeneration: () => number;
  readonly workers: () => ReadonlyArray<WorkerView>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const SCRAPE_TIMEOUT_MS = 5_000;

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function scrapeWorker(port: number): Promise<string> {
  return fetch(`http://127.0.0.1:${port}/stats/prometheus`, { headers: { accept: 'text/plain' }, signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) })
    .then((r) => (r.ok ? r.text() : ''), () => '');
}

async function scrape(state: PrimaryState, res: http.ServerResponse): Promise<void> {
  const ports = state.workers().filter((w) => w.ready && w.adminPort !== undefined).map((w) => w.adminPort as number);
  const texts = await Promise.all(ports.map(scrapeWorker));
  const own = [
    '# HELP waypoint_workers Worker processes serving traffic.',
    '# TYPE waypoint_workers gauge',
    `waypoint_workers ${ports.length}`,
    '# HELP waypoint_config_generation Config generation every worker has applied.',
    '# TYPE waypoint_config_generation gauge',
    `waypoint_config_generation ${state.appliedGeneration()}`,
  ].join('\n');
  send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', mergePrometheusText([...texts, own]));
}

function readiness(state: PrimaryState, res: http.ServerResponse): void {
  if (state.ready()) send(res, 200, 'text/plain', 'ready\n');
  else send(res, 503, 'text/plain', 'not ready\n');
}

function workersJson(state: PrimaryState, res: http.ServerResponse): void {
  const body = { generation: state.generation(), appliedGeneration: state.appliedGeneration(), workers: state.workers() };
  send(res, 200, 'application/json', `${JSON.stringify(body, null, 2)}\n`);
}

/** Relays the request to one ready worker's admin server (streaming both ways: /debug/tap works). */
function relay(state: PrimaryState, req: http.IncomingMessage, res: http.ServerResponse): void {
  const port = state.workers().find((w) => w.ready && w.adminPort !== undefined)?.adminPort;
  if (port === undefined) return send(res, 503, 'text/plain', 'no worker is ready\n');
  const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.once('error', () => {
    if (!res.headersSent) send(res, 502, 'text/plain', 'worker admin unavailable\n');
    else res.destroy();
  });
  res.once('close', () => upstream.destroy());
  req.pipe(upstream);
}

export function primaryAdminHandler(state: PrimaryState): Handler {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz/ready') return readiness(state, res);
    if (path === '/stats/prometheus') return void scrape(state, res);
    if (path === '/workers') return workersJson(state, res);
    relay(state, req, res);
  };
}

export function primaryMetricsHandler(state: PrimaryState): Handler {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/stats/prometheus') return void scrape(state, res);
    if (path === '/healthz/ready') return readiness(state, res);
    send(res, 404, 'text/plain', 'not found\n');
  };
}
