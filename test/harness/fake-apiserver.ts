// A local HTTP server speaking the Kubernetes API's list/watch protocol for the waypoint's kinds, so the
// real client library can be driven against it: paginated lists with resourceVersion, chunked watch
// streams (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR), 410 Gone for compacted resourceVersions, status
// subresources with 409 Conflict on stale resourceVersions, Leases. Plus knobs to break it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type FakeResource, FakeStore, meta, type Obj, type StoredEvent, StoreError } from './fake-apiserver-store.js';

const GW = 'gateway.networking.k8s.io';
const r = (kind: string, group: string, version: string, plural: string, namespaced = true, statusSubresource = true): FakeResource => ({ kind, group, version, plural, namespaced, statusSubresource });

/** The real API paths of every kind the waypoint reads, written out independently of src/. */
export const ALL_RESOURCES: ReadonlyArray<FakeResource> = [
  r('Namespace', '', 'v1', 'namespaces', false),
  r('Service', '', 'v1', 'services'),
  r('Pod', '', 'v1', 'pods'),
  r('Secret', '', 'v1', 'secrets', true, false),
  r('EndpointSlice', 'discovery.k8s.io', 'v1', 'endpointslices', true, false),
  r('Lease', 'coordination.k8s.io', 'v1', 'leases', true, false),
  r('GatewayClass', GW, 'v1', 'gatewayclasses', false),
  r('Gateway', GW, 'v1', 'gateways'),
  r('HTTPRoute', GW, 'v1', 'httproutes'),
  r('GRPCRoute', GW, 'v1', 'grpcroutes'),
  r('TLSRoute', GW, 'v1alpha2', 'tlsroutes'),
  r('TCPRoute', GW, 'v1alpha2', 'tcproutes'),
  r('ReferenceGrant', GW, 'v1beta1', 'referencegrants'),
  r('AuthorizationPolicy', 'security.istio.io', 'v1', 'authorizationpolicies'),
  r('RequestAuthentication', 'security.istio.io', 'v1', 'requestauthentications'),
  r('Telemetry', 'telemetry.istio.io', 'v1', 'telemetries'),
  r('WasmPlugin', 'extensions.istio.io', 'v1alpha1', 'wasmplugins'),
  r('DestinationRule', 'networking.istio.io', 'v1', 'destinationrules'),
  r('VirtualService', 'networking.istio.io', 'v1', 'virtualservices'),
  r('ServiceEntry', 'networking.istio.io', 'v1', 'serviceentries'),
  r('EnvoyFilter', 'networking.istio.io', 'v1alpha3', 'envoyfilters'),
];

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly watch: boolean;
  readonly status: number;
  /** The bearer token, so a test can tell two clients apart. */
  readonly token: string;
}

export interface FakeApiServerOptions {
  /** Resources served (others answer 404, like a CRD that is not installed). Default: all. */
  readonly resources?: ReadonlyArray<FakeResource>;
  /** BOOKMARK events on every watch that asked for them, this often (0: never). */
  readonly bookmarkIntervalMs?: number;
  /** How a compacted resourceVersion is reported: an ERROR event in a 200 stream (watch cache) or HTTP 410. */
  readonly expiry?: 'event' | 'http';
  /** Items per page at most, whatever `limit` says (exercises `continue`). */
  readonly maxPageSize?: number;
}

type Fault = { readonly match: (method: string, path: string, watch: boolean) => boolean; readonly status: number; remaining: number };

export class FakeApiServer {
  readonly store = new FakeStore();
  readonly requests: RequestRecord[] = [];
  /** BOOKMARK events sent so far, per resource plural. */
  readonly bookmarks = new Map<string, number>();
  readonly #server: http.Server;
  readonly #resources: ReadonlyArray<FakeResource>;
  readonly #options: FakeApiServerOptions;
  readonly #watches = new Set<{ res: http.ServerResponse; socket: Socket; close: () => void; freeze: () => void }>();
  readonly #sockets = new Set<Socket>();
  readonly #faults: Fault[] = [];
  readonly #held = new Map<string, Array<() => void>>();
  #conflicts = 0;
  #conflictWhere = '';
  #dir: string | undefined;

  private constructor(options: FakeApiServerOptions) {
    this.#options = options;
    this.#resources = options.resources ?? ALL_RESOURCES;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const server = new FakeApiServer(options);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', () => resolve()));
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Writes a kubeconfig for this server (plain HTTP needs insecure-skip-tls-verify in client-node). */
  async kubeconfig(token = 'test-token'): Promise<string> {
    this.#dir ??= await mkdtemp(path.join(os.tmpdir(), 'fake-apiserver-'));
    const file = path.join(this.#dir, `kubeconfig-${token}`);
    await writeFile(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: fake',
      'clusters:', '- name: fake', '  cluster:', `    server: ${this.url}`, '    insecure-skip-tls-verify: true',
      'users:', '- name: fake', '  user:', `    token: ${token}`,
      'contexts:', '- name: fake', '  context:', '    cluster: fake', '    user: fake', '',
    ].join('\n'));
    return file;
  }

  resource(kind: string): FakeResource {
    const found = ALL_RESOURCES.find((x) => x.kind === kind);
    if (found === undefined) throw new Error(`fake apiserver: unknown kind ${kind}`);
    return found;
  }

  // --- direct store access for tests (emits the same watch events as API writes) ---
  create(obj: Obj): Obj {
    const res = this.resource(String(obj['kind']));
    return this.store.create(res, obj, String(meta(obj)['namespace'] ?? 'default'));
  }

  update(obj: Obj): Obj {
    const res = this.resource(String(obj['kind']));
    const m = meta(obj);
    return this.store.replace(res, { ...obj, metadata: { ...m, resourceVersion: undefined } }, String(m['namespace'] ?? 'default'), String(m['name']), false);
  }

  setStatus(kind: string, namespace: string, name: string, status: unknown): Obj {
    const res = this.resource(kind);
    return this.store.replace(res, { status }, namespace, name, true);
  }

  get(kind: string, namespace: string, name: string): Obj {
    return this.store.get(this.resource(kind), namespace, name);
  }

  delete(kind: string, namespace: string, name: string): void {
    this.store.delete(this.resource(kind), namespace, name);
  }

  // --- knobs ---
  /** Drops every open watch connection without a word (as a network cut or an API server restart). */
  disconnectWatches(): void {
    for (const w of [...this.#watches]) w.socket.destroy();
  }

  /** Open watches go silent but stay connected, as a half-open TCP connection: no events, no end. */
  freezeWatches(): void {
    for (const w of [...this.#watches]) w.freeze();
  }

  /** Compacts history and ends every open watch with a 410 ERROR event: clients must re-list. */
  expireWatches(): void {
    this.store.compact();
    for (const w of [...this.#watches]) {
      w.res.write(`${JSON.stringify(goneEvent())}\n`);
      w.close();
    }
  }

  /** The next `times` requests matching get `status` (e.g. 500, 503, 403). */
  fail(match: Fault['match'], status: number, times = Number.POSITIVE_INFINITY): void {
    this.#faults.push({ match, status, remaining: times });
  }

  recover(): void {
    this.#faults.length = 0;
  }

  /** Lists of `plural` wait until the returned function is called. */
  holdLists(plural: string): () => void {
    this.#held.set(plural, []);
    return () => {
      const waiting = this.#held.get(plural) ?? [];
      this.#held.delete(plural);
      for (const go of waiting) go();
    };
  }

  /** The next `n` status writes (to paths containing `where`) meet a concurrent writer: the object changes first, then 409. */
  injectConflicts(n: number, where = ''): void {
    this.#conflicts = n;
    this.#conflictWhere = where;
  }

  statusWrites(filter: (r: RequestRecord) => boolean = () => true): RequestRecord[] {
    return this.requests.filter((q) => (q.method === 'PUT' || q.method === 'PATCH') && q.path.endsWith('/status') && q.status < 300 && filter(q));
  }

  async close(): Promise<void> {
    for (const w of [...this.#watches]) w.close();
    for (const s of this.#sockets) s.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#dir !== undefined) await rm(this.#dir, { recursive: true, force: true });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const token = /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const record = (status: number): void => {
      this.requests.push({ method, path: url.pathname, query: url.searchParams, watch, status, token });
    };
    const body = await readBody(req);
    const fault = this.#faults.find((f) => f.remaining > 0 && f.match(method, url.pathname, watch));
    if (fault !== undefined) {
      fault.remaining--;
      record(fault.status);
      return sendStatus(res, fault.status, fault.status === 403 ? 'Forbidden' : 'InternalError', 'injected failure');
    }
    const route = this.#route(url.pathname);
    if (route === undefined) {
      record(404);
      return sendStatus(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    }
    const { resource, namespace, name, subresource } = route;
    try {
      if (name === undefined) {
        if (method === 'GET' && watch) return this.#watch(req, res, resource, namespace, url.searchParams, record);
        if (method === 'GET') {
          const held = this.#held.get(resource.plural);
          if (held !== undefined) await new Promise<void>((go) => held.push(go));
          record(200);
          return sendJson(res, 200, this.#list(resource, namespace, url.searchParams));
        }
        if (method === 'POST') {
          const created = this.store.create(resource, parse(body), namespace ?? String(meta(parse(body))['namespace'] ?? 'default'));
          record(201);
          return sendJson(res, 201, created);
        }
      } else {
        const ns = namespace ?? '';
        if (method === 'GET') {
          const obj = this.store.get(resource, resource.namespaced ? ns : '', name);
          record(200);
          return sendJson(res, 200, obj);
        }
        if ((method === 'PUT' || method === 'PATCH') && subresource === 'status' && this.#conflicts > 0 && url.pathname.includes(this.#conflictWhere)) {
          this.#conflicts--;
          this.store.touch(resource, resource.namespaced ? ns : '', name);
          throw new StoreError(409, 'Conflict', `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
        }
        if (method === 'PUT') {
          const out = this.store.replace(resource, parse(body), resource.namespaced ? ns : '', name, subresource === 'status');
          record(200);
          return sendJson(res, 200, out);
        }
        if (method === 'PATCH' && subresource === 'status' && /merge-patch/.test(req.headers['content-type'] ?? '')) {
          const out = this.store.mergePatchStatus(resource, parse(body), resource.namespaced ? ns : '', name);
          record(200);
          return sendJson(res, 200, out);
        }
        if (method === 'DELETE') {
          const out = this.store.delete(resource, resource.namespaced ? ns : '', name);
          record(200);
          return sendJson(res, 200, out);
        }
      }
      record(405);
      sendStatus(res, 405, 'MethodNotAllowed', `${method} is not supported here`);
    } catch (err) {
      const e = err instanceof StoreError ? err : new StoreError(400, 'BadRequest', String(err));
      record(e.code);
      sendStatus(res, e.code, e.reason, e.message);
    }
  }

  #route(pathname: string): { resource: FakeResource; namespace: string | undefined; name: string | undefined; subresource: string | undefined } | undefined {
    const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    let group: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] !== undefined) [group, rest] = ['', parts.slice(2)];
    else if (parts[0] === 'apis' && parts[1] !== undefined && parts[2] !== undefined) [group, rest] = [parts[1], parts.slice(3)];
    else return undefined;
    const version = parts[0] === 'api' ? parts[1] : parts[2];
    const find = (plural: string | undefined): FakeResource | undefined => this.#resources.find((x) => x.group === group && x.version === version && x.plural === plural);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && find(rest[2])?.namespaced === true) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const resource = find(rest[0]);
    if (resource === undefined || rest.length > 3 || (rest.length === 3 && rest[2] !== 'status')) return undefined;
    return { resource, namespace, name: rest[1], subresource: rest[2] };
  }

  #list(resource: FakeResource, namespace: string | undefined, q: URLSearchParams): Obj {
    const { items, rv } = this.store.list(resource, namespace);
    const limit = Math.min(Number(q.get('limit') ?? items.length) || items.length, this.#options.maxPageSize ?? Number.MAX_SAFE_INTEGER);
    const start = Number(q.get('continue') ?? 0);
    const page = items.slice(start, start + limit);
    const next = start + limit < items.length ? String(start + limit) : undefined;
    // Typed lists leave apiVersion and kind out of the items, as the real server does.
    for (const item of page) {
      delete item['apiVersion'];
      delete item['kind'];
    }
    return { kind: `${resource.kind}List`, apiVersion: resource.group === '' ? resource.version : `${resource.group}/${resource.version}`, metadata: { resourceVersion: String(rv), ...(next === undefined ? {} : { continue: next }) }, items: page };
  }

  #watch(req: http.IncomingMessage, res: http.ServerResponse, resource: FakeResource, namespace: string | undefined, q: URLSearchParams, record: (status: number) => void): void {
    const rvParam = q.get('resourceVersion') ?? '';
    const replay = rvParam === '' || rvParam === '0' ? 'now' : this.store.since(resource.plural, namespace, Number(rvParam));
    if (replay === 'expired' && this.#options.expiry === 'http') {
      record(410);
      return sendStatus(res, 410, 'Expired', 'too old resource version');
    }
    record(200);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as the API server: headers go out before the first event
    const send = (e: unknown): boolean => res.write(`${JSON.stringify(e)}\n`);
    let lastRv = this.store.resourceVersion;
    if (replay === 'expired') {
      send(goneEvent());
      res.end();
      return;
    }
    // No resourceVersion: "start at most recent", with synthetic ADDED events for what exists now.
    if (replay === 'now') for (const item of this.store.list(resource, namespace).items) send({ type: 'ADDED', object: item });
    else for (const e of replay) send({ type: e.type, object: e.object });
    const onEvent = (e: StoredEvent): void => {
      lastRv = e.rv;
      if (e.plural === resource.plural && (namespace === undefined || e.namespace === namespace)) send({ type: e.type, object: e.object });
    };
    const unsubscribe = this.store.subscribe(onEvent);
    const timers: NodeJS.Timeout[] = [];
    const interval = this.#options.bookmarkIntervalMs ?? 0;
    if (interval > 0 && q.get('allowWatchBookmarks') === 'true') {
      timers.push(setInterval(() => this.bookmarks.set(resource.plural, (this.bookmarks.get(resource.plural) ?? 0) + 1) && send({ type: 'BOOKMARK', object: { kind: resource.kind, apiVersion: resource.group === '' ? resource.version : `${resource.group}/${resource.version}`, metadata: { resourceVersion: String(Math.max(lastRv, this.store.resourceVersion)) } } }), interval));
    }
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    const entry = { res, socket: req.socket, close: (): void => {}, freeze: (): void => {} };
    entry.freeze = () => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.#watches.delete(entry);
    };
    entry.close = () => {
      entry.freeze();
      if (!res.writableEnded) res.end();
    };
    if (timeout > 0) timers.push(setTimeout(entry.close, timeout * 1000));
    res.on('close', entry.close);
    this.#watches.add(entry);
  }
}

function goneEvent(): Obj {
  return { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 } };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function parse(body: string): Obj {
  const v: unknown = JSON.parse(body === '' ? '{}' : body);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new StoreError(400, 'BadRequest', 'body must be an object');
  return v as Obj;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: http.ServerResponse, code: number, reason: string, message: string): void {
  sendJson(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}
