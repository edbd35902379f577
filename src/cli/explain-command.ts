// `waypoint explain`: the decision trace of one request, offline. It runs the real data path: a Waypoint
// in-process (no VIP listener bound), the request fed through `Waypoint.accept` with the given identity,
// and every upstream endpoint dialled to a loopback stub backend (HTTP/1.1, or h2c for HTTP/2 and gRPC
// clusters), so no traffic leaves the process.
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { Waypoint } from '../app/waypoint.js';
import type { Snapshot } from '../config/snapshot.js';
import { FileSource } from '../config/source/file-source.js';
import type { DecisionTrace } from '../debug/decision-trace.js';
import { formatTrace, verdictOf } from '../debug/format-trace.js';
import { silentLogger } from '../observability/logger.js';

export interface ExplainOptions {
  readonly config: ReadonlyArray<string>;
  readonly waypoint: string | undefined;
  readonly meshConfigFile: string | undefined;
  readonly clusterDomain: string;
  /** SPIFFE ID of the caller (`spiffe://<td>/ns/<ns>/sa/<sa>`), as an HBONE peer would present. */
  readonly from: string | undefined;
  readonly sourceIp: string | undefined;
  readonly headers: ReadonlyArray<string>;
  readonly jwt: string | undefined;
  /** `allow`, `deny` or a status code. */
  readonly expect: string | undefined;
  readonly output: 'text' | 'json';
  readonly method: string;
  readonly url: string;
}

type Write = (s: string) => void;

/** Exit codes: 0 done (and `--expect` held), 1 `--expect` failed, 2 bad input or config. */
export async function explainCommand(o: ExplainOptions, out: Write, err: Write): Promise<number> {
  const parsed = parseRequest(o);
  if (typeof parsed === 'string') {
    err(`error: ${parsed}\n`);
    return 2;
  }
  const result = await explainRequest(o, parsed);
  if (typeof result === 'string') {
    err(`error: ${result}\n`);
    return 2;
  }
  out(o.output === 'json' ? `${JSON.stringify(stable(result), null, 2)}\n` : formatTrace(result));
  if (o.expect === undefined) return 0;
  const held = /^[0-9]{3}$/.test(o.expect) ? result.response.status === Number(o.expect) : verdictOf(result) === o.expect;
  if (!held) err(`expectation failed: expected ${o.expect}, got ${verdictOf(result)} (status ${result.response.status})\n`);
  return held ? 0 : 1;
}

interface ParsedRequest {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

function parseRequest(o: ExplainOptions): ParsedRequest | string {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    return `not a URL: ${o.url} (expected http://SERVICE:PORT/path)`;
  }
  if (url.protocol !== 'http:') return `only http:// URLs can be explained (got ${url.protocol})`;
  if (o.from !== undefined && !/^spiffe:\/\/[^/]+\/ns\/[^/]+\/sa\/[^/]+$/.test(o.from)) return `--from must be spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/SERVICE-ACCOUNT (got ${o.from})`;
  if (o.sourceIp !== undefined && net.isIP(o.sourceIp) === 0) return `--source-ip is not an IP address: ${o.sourceIp}`;
  if (o.expect !== undefined && !/^(allow|deny|[1-5][0-9]{2})$/.test(o.expect)) return `--expect must be allow, deny or a status code (got ${o.expect})`;
  const headers: Array<readonly [string, string]> = [];
  for (const h of o.headers) {
    const i = h.indexOf(':');
    if (i <= 0) return `bad header ${JSON.stringify(h)}: expected 'Name: value'`;
    headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
  }
  if (o.jwt !== undefined) headers.push(['authorization', `Bearer ${o.jwt}`]);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 80 : Number(url.port), path: `${url.pathname}${url.search}`, headers };
}

/** The listener an URL reaches: a VIP `ip:port` directly, or a Service hostname (FQDN, `name.ns`, `name`). */
export function listenerFor(snapshot: Snapshot, host: string, port: number): string | undefined {
  const direct = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (snapshot.listeners.has(direct) || snapshot.listeners.has(`${host}:${port}`)) return snapshot.listeners.has(direct) ? direct : `${host}:${port}`;
  const h = host.toLowerCase();
  for (const l of snapshot.listeners.values()) {
    const s = l.service;
    if (l.port !== port) continue;
    if (s.hostname === h || `${s.name}.${s.namespace}` === h || `${s.name}.${s.namespace}.svc` === h || s.name === h) return l.key;
  }
  return undefined;
}

async function explainRequest(o: ExplainOptions, r: ParsedRequest): Promise<DecisionTrace | string> {
  const stub = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-waypoint-explain': 'stub-backend' });
    res.end('explain stub backend\n');
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', () => resolve()));
  const stubPort = (stub.address() as AddressInfo).port;
  // HTTP/2 and gRPC clusters use their own pool (cleartext, prior knowledge): an h2c stub for them.
  const stub2 = http2.createServer((req, res) => {
    const grpc = req.headers['content-type']?.startsWith('application/grpc') === true;
    res.writeHead(200, grpc ? { 'content-type': 'application/grpc', 'grpc-status': '0' } : { 'content-type': 'text/plain' });
    if (grpc) res.end();
    else res.end('explain stub backend\n');
  });
  await new Promise<void>((resolve) => stub2.listen(0, '127.0.0.1', () => resolve()));
  const stub2Port = (stub2.address() as AddressInfo).port;
  const waypoint = new Waypoint({
    source: new FileSource(o.meshConfigFile === undefined ? [...o.config] : [...o.config, o.meshConfigFile]),
    waypoint: o.waypoint,
    clusterDomain: o.clusterDomain,
    meshConfigFile: o.meshConfigFile,
    adminAddress: { host: '127.0.0.1', port: 0 },
    metricsAddress: undefined,
    hboneAddress: undefined,
    connectTimeoutMs: 2000,
    log: silentLogger,
    random: () => 0,
    observer: undefined,
    debugRequests: 1,
    upstreamH2Dial: { address: '127.0.0.1', port: stub2Port },
    upstreamConnect: (_opts, callback) => {
      const socket = net.connect(stubPort, '127.0.0.1');
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (e) => callback(e, null));
    },
  });
  const door = net.createServer();
  try {
    const outcome = await waypoint.reload();
    const snapshot = waypoint.store.current;
    if (snapshot === undefined) return `no configuration could be applied (${outcome.diagnostics.filter((d) => d.severity === 'error').length} errors; run waypoint validate)`;
    const listenerKey = listenerFor(snapshot, r.host, r.port);
    if (listenerKey === undefined) return `no enrolled Service listens on ${r.host}:${r.port} (listeners: ${[...snapshot.listeners.keys()].join(', ') || 'none'})`;
    const ns = o.from === undefined ? undefined : /\/ns\/([^/]+)\//.exec(o.from)?.[1];
    const td = o.from === undefined ? undefined : /^spiffe:\/\/([^/]+)\//.exec(o.from)?.[1];
    const sa = o.from === undefined ? undefined : /\/sa\/([^/]+)$/.exec(o.from)?.[1];
    door.on('connection', (socket) => {
      waypoint.accept(socket, {
        listenerKey,
        remoteAddress: o.sourceIp ?? socket.remoteAddress ?? '127.0.0.1',
        remotePort: socket.remotePort ?? 0,
        sourceNamespace: ns,
        peerPrincipal: o.from,
        ...(td === undefined ? {} : { peerTrustDomain: td }),
        ...(sa === undefined ? {} : { peerServiceAccount: sa }),
      });
    });
    await new Promise<void>((resolve) => door.listen(0, '127.0.0.1', () => resolve()));
    await send((door.address() as AddressInfo).port, o.method, r);
    // The observer runs when the exchange finishes, which may be just after the client saw the end.
    for (let i = 0; i < 100 && (waypoint.requests?.query({ limit: 1 }).length ?? 0) === 0; i++) await new Promise((res) => setTimeout(res, 10));
    const trace = waypoint.requests?.query({ limit: 1 })[0];
    return trace ?? 'the request did not complete';
  } finally {
    door.close();
    await waypoint.stop(0);
    stub.closeAllConnections();
    await new Promise<void>((resolve) => stub.close(() => resolve()));
    await new Promise<void>((resolve) => stub2.close(() => resolve()));
  }
}

function send(port: number, method: string, r: ParsedRequest): Promise<void> {
  const headers: Record<string, string> = { host: r.port === 80 ? r.host : `${r.host}:${r.port}` };
  for (const [k, v] of r.headers) headers[k.toLowerCase()] = v;
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: r.path, headers, agent: false }, (res) => {
      res.resume();
      res.once('end', resolve);
      res.once('error', () => resolve());
    });
    req.once('error', () => resolve());
    req.end();
  });
}

/** The trace without what differs run to run (id, time, timings, ephemeral source port). */
export function stable(t: DecisionTrace): Omit<DecisionTrace, 'id' | 'time' | 'timings'> {
  const { id: _id, time: _time, timings: _timings, ...rest } = t;
  return rest;
}
