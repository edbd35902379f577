// proxy_http_call's transport: the `upstream` a plugin names is resolved to a cluster of the live snapshot
// (its id, Istio's `outbound|<port>||<host>` form, `<host>:<port>` or a Service host with one port) and
// sent through the waypoint's own endpoint pools (load balancing, keep-alive), or, for a literal `ip:port`
// with no cluster, straight to that address with undici.
import type { ClusterConfig, Snapshot } from '../../config/snapshot.js';
import type { EndpointRegistry } from '../../upstream/endpoint-registry.js';
import { pickEndpoint, type Random } from '../../upstream/load-balancer.js';
import { collectResponse } from '../../upstream/h1/collect-response.js';

export interface HttpCallRequest {
  readonly upstream: string;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  /** Regular fields, flat [name, value, ...] (pseudo-headers removed). */
  readonly headers: ReadonlyArray<string>;
  readonly body: Buffer;
  readonly timeoutMs: number;
}

export interface HttpCallResponse {
  /** With `:status` first, as plugins read HTTP_CALL_RESPONSE_HEADERS. */
  readonly headers: ReadonlyArray<string>;
  readonly body: Buffer;
  readonly trailers: ReadonlyArray<string>;
}

export interface HttpCaller {
  /** False when `upstream` names nothing known (the plugin gets BadArgument); `done(undefined)` on failure or timeout. */
  call(req: HttpCallRequest, done: (res: HttpCallResponse | undefined) => void): boolean;
}

/** Responses are read up to Envoy's default buffer limit; a larger one counts as a failed call. */
const RESPONSE_LIMIT_BYTES = 1024 * 1024;
const IP_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;

export interface MeshHttpCallerDeps {
  readonly snapshot: () => Snapshot | undefined;
  readonly endpoints: () => EndpointRegistry | undefined;
  readonly random: Random;
}

export class MeshHttpCaller implements HttpCaller {
  readonly #deps: MeshHttpCallerDeps;
  readonly #lookups = new WeakMap<Snapshot, Map<string, ClusterConfig>>();

  constructor(deps: MeshHttpCallerDeps) {
    this.#deps = deps;
  }

  call(req: HttpCallRequest, done: (res: HttpCallResponse | undefined) => void): boolean {
    const cluster = this.#cluster(req.upstream);
    const endpoints = this.#deps.endpoints();
    const opts = {
      method: req.method as 'GET',
      path: req.path,
      headers: ['host', req.authority, ...req.headers],
      body: req.body.length > 0 ? req.body : null,
      signal: AbortSignal.timeout(req.timeoutMs > 0 ? req.timeoutMs : 60_000),
    };
    if (cluster !== undefined && endpoints !== undefined) {
      const endpoint = pickEndpoint(cluster, endpoints, this.#deps.random);
      if (endpoint === undefined) {
        setImmediate(done, undefined);
        return true;
      }
      try {
        const { signal: _signal, ...dispatch } = opts;
        collectResponse(endpoint.pool, dispatch, RESPONSE_LIMIT_BYTES, req.timeoutMs > 0 ? req.timeoutMs : 60_000, (r) => {
          done(r === undefined ? undefined : { headers: [':status', String(r.statusCode), ...flatten(r.headers)], body: r.body, trailers: flatten(r.trailers) });
        });
      } catch {
        setImmediate(done, undefined);
      }
      return true;
    }
    const direct = IP_PORT.exec(req.upstream);
    if (direct === null) return false;
    try {
      const { path: _path, ...rest } = opts;
      // undici is imported by the first such call: most waypoints never make one (issue #13, RSS).
      import('undici').then(({ request }) => request(`http://${req.upstream}${req.path}`, rest)).then((r) => collect(r, done), () => done(undefined));
    } catch {
      // A request undici refuses outright (a malformed path) is a failed call, reported like any other.
      setImmediate(done, undefined);
    }
    return true;
  }

  #cluster(upstream: string): ClusterConfig | undefined {
    const snapshot = this.#deps.snapshot();
    if (snapshot === undefined) return undefined;
    let names = this.#lookups.get(snapshot);
    if (names === undefined) {
      names = clusterNames(snapshot);
      this.#lookups.set(snapshot, names);
    }
    return names.get(upstream);
  }
}

function clusterNames(snapshot: Snapshot): Map<string, ClusterConfig> {
  const names = new Map<string, ClusterConfig>();
  const ports = new Map<string, number>();
  for (const c of snapshot.clusters.values()) ports.set(c.hostname, (ports.get(c.hostname) ?? 0) + 1);
  for (const c of snapshot.clusters.values()) {
    names.set(c.id, c);
    if (!names.has(`outbound|${c.port}||${c.hostname}`)) names.set(`outbound|${c.port}||${c.hostname}`, c);
    if (!names.has(`${c.hostname}:${c.port}`)) names.set(`${c.hostname}:${c.port}`, c);
    if (ports.get(c.hostname) === 1) names.set(c.hostname, c);
  }
  return names;
}

interface UndiciResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly trailers: Record<string, string | string[] | undefined>;
  readonly body: AsyncIterable<Buffer> & { destroy(): unknown };
}

async function collect(res: UndiciResponse, done: (res: HttpCallResponse | undefined) => void): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += chunk.length;
      if (size > RESPONSE_LIMIT_BYTES) {
        res.body.destroy();
        return done(undefined);
      }
      chunks.push(chunk);
    }
  } catch {
    return done(undefined);
  }
  done({ headers: [':status', String(res.statusCode), ...flatten(res.headers)], body: Buffer.concat(chunks), trailers: flatten(res.trailers) });
}

function flatten(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const v = headers[name];
    if (typeof v === 'string') out.push(name, v);
    else if (v !== undefined) for (const x of v) out.push(name, x);
  }
  return out;
}
