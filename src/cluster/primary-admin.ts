// The public admin and metrics endpoints of a cluster primary: readiness and /workers from the primary's own
// view; /stats/prometheus, /debug/requests, /debug/stats and /debug/tap merged from every worker's own admin
// server (each worker sees only the connections it accepted); anything else relayed to one worker.
import http from 'node:http';
import type { TrafficStats } from '../debug/traffic-stats.js';
import { mergePrometheusText } from './prometheus-merge.js';
import { mergeRequests, type WorkerRequests } from './requests-merge.js';
import { mergeTrafficStats } from './stats-merge.js';
import { tapFanout } from './tap-fanout.js';

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

interface WorkerAnswer {
  readonly worker: number;
  readonly status: number;
  readonly body: string;
}

function readyWorkers(state: PrimaryState): Array<{ id: number; adminPort: number }> {
  return state.workers().flatMap((w) => (w.ready && w.adminPort !== undefined ? [{ id: w.id, adminPort: w.adminPort }] : []));
}

/** GET `pathAndQuery` from every ready worker's admin server; a worker that does not answer is left out. */
async function askWorkers(state: PrimaryState, pathAndQuery: string): Promise<WorkerAnswer[]> {
  const answers = await Promise.all(readyWorkers(state).map((w) =>
    fetch(`http://127.0.0.1:${w.adminPort}${pathAndQuery}`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) })
      .then(async (r) => ({ worker: w.id, status: r.status, body: await r.text() }), () => undefined)));
  return answers.filter((a): a is WorkerAnswer => a !== undefined);
}

/** Merges when every worker answered 200; otherwise passes one worker's error on (bad query, feature off). */
async function fanIn(state: PrimaryState, pathAndQuery: string, res: http.ServerResponse, merge: (answers: WorkerAnswer[]) => unknown, pretty: boolean): Promise<void> {
  const answers = await askWorkers(state, pathAndQuery);
  if (answers.length === 0) return send(res, 503, 'text/plain', 'no worker is ready\n');
  const failed = answers.find((a) => a.status !== 200);
  if (failed !== undefined) return send(res, failed.status, 'text/plain', failed.body);
  let merged: unknown;
  try {
    merged = merge(answers);
  } catch {
    return send(res, 502, 'text/plain', 'a worker answered with unreadable JSON\n');
  }
  send(res, 200, 'application/json', `${pretty ? JSON.stringify(merged, null, 2) : JSON.stringify(merged)}\n`);
}

/** /debug/requests: each worker filters and limits its own ring; the union is cut to the same limit. */
function requests(state: PrimaryState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? undefined : Number(limitText);
  return fanIn(state, `${url.pathname}${url.search}`, res, (answers) => mergeRequests(answers.map((a): WorkerRequests => {
    const body = JSON.parse(a.body) as { capacity: number; requests: Array<Record<string, unknown>> };
    return { worker: a.worker, capacity: body.capacity, requests: body.requests };
  }), limit !== undefined && Number.isInteger(limit) && limit >= 0 ? limit : undefined), true);
}

/** /debug/stats: asks every worker for its latency buckets too, so the merged percentiles are real ones. */
function stats(state: PrimaryState, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const keepBuckets = url.searchParams.get('buckets') === '1';
  url.searchParams.set('buckets', '1');
  return fanIn(state, `${url.pathname}${url.search}`, res, (answers) => mergeTrafficStats(answers.map((a) => JSON.parse(a.body) as TrafficStats), keepBuckets), false);
}

function tap(state: PrimaryState, req: http.IncomingMessage, res: http.ServerResponse): void {
  const workers = readyWorkers(state);
  if (workers.length === 0) return send(res, 503, 'text/plain', 'no worker is ready\n');
  tapFanout(workers, req.url ?? '/debug/tap', res);
}

function readiness(state: PrimaryState, res: http.ServerResponse): void {
  if (state.ready()) send(res, 200, 'text/plain', 'ready\n');
  else send(res, 503, 'text/plain', 'not ready\n');
}

function workersJson(state: PrimaryState, res: http.ServerResponse): void {
  const body = { generation: state.generation(), appliedGeneration: state.appliedGeneration(), workers: state.workers() };
  send(res, 200, 'application/json', `${JSON.stringify(body, null, 2)}\n`);
}

/**
 * Relays the request to one ready worker's admin server. Right for what every worker holds alike once a
 * generation is applied: /config_dump and /debug/summary (config, diagnostics), the dashboard assets, /logging
 * (a worker's own log level: one worker only, as before).
 */
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
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/debug/requests') return void requests(state, req, res);
      if (path === '/debug/stats') return void stats(state, req, res);
      if (path === '/debug/tap') return tap(state, req, res);
    }
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
