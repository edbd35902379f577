// Admin endpoints for operators: `/debug/requests` (recent decision traces, filterable) and `/logging`
// (Envoy's admin `POST /logging?level=`: read or change the application log level at run time), and
// `/debug/tap` (a live stream of decision traces).
import type http from 'node:http';
import type { RequestRing } from '../debug/request-ring.js';
import type { TapHub } from '../debug/tap-hub.js';
import type { Logger, LogLevel } from '../observability/logger.js';

const LEVELS: ReadonlyArray<LogLevel> = ['debug', 'info', 'warn', 'error'];

type Send = (res: http.ServerResponse, status: number, type: string, body: string) => void;

/** GET /debug/requests?service=&status=&limit= → JSON `{ requests: [...] }`, newest first. */
export function debugRequests(ring: RequestRing | undefined, req: http.IncomingMessage, res: http.ServerResponse, send: Send): void {
  if (ring === undefined) return send(res, 404, 'text/plain', 'request recording is off\n');
  const q = new URL(req.url ?? '/', 'http://admin').searchParams;
  const limitText = q.get('limit');
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) return send(res, 400, 'text/plain', 'limit must be a non-negative integer\n');
  const requests = ring.query({ service: q.get('service') ?? undefined, status: q.get('status') ?? undefined, limit });
  send(res, 200, 'application/json', `${JSON.stringify({ capacity: ring.capacity, requests }, null, 2)}\n`);
}

/** GET /logging shows the level; POST /logging?level=debug|info|warn|error changes it. */
export function logging(log: Logger | undefined, req: http.IncomingMessage, res: http.ServerResponse, send: Send): void {
  if (log === undefined) return send(res, 404, 'text/plain', 'no logger\n');
  const level = new URL(req.url ?? '/', 'http://admin').searchParams.get('level');
  if (level === null) return send(res, 200, 'text/plain', `active level: ${log.level}\n`);
  if (req.method !== 'POST') return send(res, 405, 'text/plain', 'use POST /logging?level=LEVEL to change the level\n');
  if (!LEVELS.includes(level as LogLevel)) return send(res, 400, 'text/plain', `unknown level ${JSON.stringify(level)}: expected one of ${LEVELS.join(', ')}\n`);
  const previous = log.level;
  log.level = level as LogLevel;
  log.info('log level changed', { from: previous, to: log.level });
  send(res, 200, 'text/plain', `active level: ${log.level}\n`);
}

/** GET /debug/tap?service=&path=&status= → a never-ending NDJSON stream of matching decision traces. */
export function debugTap(tap: TapHub | undefined, req: http.IncomingMessage, res: http.ServerResponse, send: Send): void {
  if (tap === undefined) return send(res, 404, 'text/plain', 'tap is off\n');
  const q = new URL(req.url ?? '/', 'http://admin').searchParams;
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  tap.subscribe(res, { service: q.get('service') ?? undefined, path: q.get('path') ?? undefined, status: q.get('status') ?? undefined });
}
