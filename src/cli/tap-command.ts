// `waypoint tap`: a live stream of requests through a running waypoint (its /debug/tap), one line each:
// status, method, authority and path, service, route, backend endpoint, response flags and details.
import http from 'node:http';
import type { DecisionTrace } from '../debug/decision-trace.js';

export interface TapOptions {
  readonly admin: string;
  readonly service: string | undefined;
  readonly path: string | undefined;
  readonly status: string | undefined;
  /** Stop after this many requests (default: until interrupted). */
  readonly count: number | undefined;
  readonly output: 'text' | 'json';
  /** Told once the stream is open (tests send traffic then). */
  readonly onOpen?: () => void;
}

type Write = (s: string) => void;

export function tapCommand(o: TapOptions, out: Write, err: Write): Promise<number> {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(o.admin);
  const host = m?.[1] === undefined || m[1] === '' || m[1] === '0.0.0.0' ? '127.0.0.1' : m[1];
  const q = new URLSearchParams();
  if (o.service !== undefined) q.set('service', o.service);
  if (o.path !== undefined) q.set('path', o.path);
  if (o.status !== undefined) q.set('status', o.status);
  return new Promise((resolve) => {
    let seen = 0;
    const req = http.get({ host, port: Number(m?.[2] ?? 15000), path: `/debug/tap?${q.toString()}`, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        err(`error: /debug/tap answered ${res.statusCode ?? 0}\n`);
        res.resume();
        resolve(1);
        return;
      }
      o.onOpen?.();
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line === '') continue;
          const parsed = JSON.parse(line) as DecisionTrace | { readonly dropped: number };
          if ('dropped' in parsed) {
            err(`(${parsed.dropped} requests dropped: this client reads too slowly)\n`);
            continue;
          }
          out(o.output === 'json' ? `${line}\n` : tapLine(parsed));
          if (o.count !== undefined && ++seen >= o.count) {
            req.destroy();
            resolve(0);
            return;
          }
        }
      });
      res.on('end', () => resolve(0));
      res.on('error', () => resolve(0));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (o.count !== undefined && seen >= o.count) return;
      err(`error: ${e.code === 'ECONNREFUSED' ? `no waypoint admin server at ${o.admin}` : e.message}\n`);
      resolve(1);
    });
  });
}

export function tapLine(t: DecisionTrace): string {
  const route = t.route?.name ?? '-';
  return `${t.time} ${t.response.status} ${t.request.method} ${t.request.authority}${t.request.path} service=${t.service} route=${route} endpoint=${t.backend.endpoint ?? '-'} flags=${t.response.flags} details=${t.response.details} ${t.timings.totalMs}ms\n`;
}
