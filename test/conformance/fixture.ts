// The mesh the conformance suite runs against, shaped like the Gateway API mesh profile's: namespace
// `gateway-conformance-mesh` enrolled in the waypoint, Services `echo` (pods v1 and v2), `echo-v1`,
// `echo-v2` (ports 80 and 8080) and `infra-backend-v1..v3`, each pod a real echo server on loopback.
// Cases are data (ExpectedResponse) checked by one function, as the upstream suite does.
import assert from 'node:assert/strict';
import http from 'node:http';
import { meshPreamble, vipRange } from '../harness/config.js';
import { startMesh, type TestMesh } from '../harness/mesh.js';
import { type EchoBackend, type EchoRequest, startEcho } from './echo-backend.js';

export const NS = 'gateway-conformance-mesh';

interface ServiceShape {
  readonly name: string;
  readonly pods: ReadonlyArray<string>;
  readonly ports: ReadonlyArray<{ readonly port: number; readonly name: string }>;
}

const SERVICES: ReadonlyArray<ServiceShape> = [
  { name: 'echo', pods: ['echo-v1', 'echo-v2'], ports: [{ port: 80, name: 'http' }, { port: 8080, name: 'http-alt' }] },
  { name: 'echo-v1', pods: ['echo-v1'], ports: [{ port: 80, name: 'http' }, { port: 8080, name: 'http-alt' }] },
  { name: 'echo-v2', pods: ['echo-v2'], ports: [{ port: 80, name: 'http' }, { port: 8080, name: 'http-alt' }] },
  { name: 'infra-backend-v1', pods: ['infra-backend-v1'], ports: [{ port: 8080, name: 'http' }] },
  { name: 'infra-backend-v2', pods: ['infra-backend-v2'], ports: [{ port: 8080, name: 'http' }] },
  { name: 'infra-backend-v3', pods: ['infra-backend-v3'], ports: [{ port: 8080, name: 'http' }] },
];

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** What the echo backend saw, when it answered. */
  readonly echo: EchoRequest | undefined;
}

export interface RequestSpec {
  /** Service called (its VIP); default `echo`. */
  readonly service?: string;
  readonly port?: number;
  /** Host header; default the Service name. */
  readonly host?: string;
  readonly path: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export class ConformanceMesh {
  readonly mesh: TestMesh;
  /** Pod name → its echo server; pods are named after their backend (`echo-v1`) as in the upstream suite. */
  readonly pods: ReadonlyMap<string, EchoBackend>;
  readonly #vips: ReadonlyMap<string, string>;

  private constructor(mesh: TestMesh, pods: ReadonlyMap<string, EchoBackend>, vips: ReadonlyMap<string, string>) {
    this.mesh = mesh;
    this.pods = pods;
    this.#vips = vips;
  }

  /**
   * Starts the pods and a waypoint serving the mesh with `routes` (YAML). `extra` may add Services once the
   * pods run (their shared port is given, so extra endpoints can listen on it at other addresses).
   */
  static async start(routes: string, extra?: (targetPort: number, pods: ReadonlyMap<string, EchoBackend>) => Promise<ReadonlyArray<ExtraService>>): Promise<ConformanceMesh> {
    const vip = vipRange();
    const pods = new Map<string, EchoBackend>();
    let n = 10;
    for (const name of new Set(SERVICES.flatMap((s) => s.pods))) {
      // Every pod of the mesh listens on its own loopback address, on one shared port (the targetPort).
      const first = [...pods.values()][0];
      pods.set(name, await startEcho(name, `${name}-0`, `127.0.0.${n++}`, first?.port ?? 0));
    }
    const port = [...pods.values()][0]?.port ?? 0;
    const vips = new Map<string, string>();
    const docs = [meshPreamble(NS)];
    SERVICES.forEach((s, i) => {
      vips.set(s.name, vip(i + 1));
      docs.push(serviceDocs(s, vip(i + 1), port, pods));
    });
    const more = extra === undefined ? [] : await extra(port, pods);
    more.forEach((e, i) => {
      const v = vip(SERVICES.length + i + 1);
      vips.set(e.name, v);
      docs.push(serviceDocs({ name: e.name, pods: [], ports: [{ port: 80, name: 'http' }] }, v, port, pods, e.addresses));
    });
    const mesh = await startMesh({ 'mesh.yaml': docs.join(''), 'routes.yaml': routes });
    return new ConformanceMesh(mesh, pods, vips);
  }

  vip(service: string): string {
    const v = this.#vips.get(service);
    if (v === undefined) throw new Error(`no service ${service}`);
    return v;
  }

  pod(name: string): EchoBackend {
    const p = this.pods.get(name);
    if (p === undefined) throw new Error(`no pod ${name}`);
    return p;
  }

  async call(r: RequestSpec): Promise<Reply> {
    const service = r.service ?? 'echo';
    const headers: Record<string, string> = { host: r.host ?? service, ...r.headers };
    const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: this.vip(service), port: r.port ?? 80, method: r.method ?? 'GET', path: r.path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(r.body);
    });
    let echo: EchoRequest | undefined;
    if (res.headers['x-backend'] !== undefined && res.headers['content-type'] === 'application/json') echo = JSON.parse(res.body) as EchoRequest;
    return { ...res, echo };
  }

  async close(): Promise<void> {
    await this.mesh.close();
    for (const p of this.pods.values()) await p.close();
  }
}

/** A Service (port 80) added by a test, with endpoints at `addresses` on the pods' shared port. */
export interface ExtraService {
  readonly name: string;
  readonly addresses: ReadonlyArray<string>;
}

function serviceDocs(s: ServiceShape, vip: string, targetPort: number, pods: ReadonlyMap<string, EchoBackend>, extra: ReadonlyArray<string> = []): string {
  const ports = s.ports.map((p) => `    - name: ${p.name}\n      port: ${p.port}\n      targetPort: ${targetPort}`).join('\n');
  const addresses = [
    ...s.pods.map((p) => `  - addresses: ["${pods.get(p)?.address ?? ''}"]\n    targetRef: { kind: Pod, name: ${p}-0, namespace: ${NS} }`),
    ...extra.map((a) => `  - addresses: ["${a}"]`),
  ].join('\n');
  const slicePorts = s.ports.map((p) => `  - name: ${p.name}\n    port: ${targetPort}`).join('\n');
  return `---
apiVersion: v1
kind: Service
metadata: { name: ${s.name}, namespace: ${NS} }
spec:
  clusterIP: ${vip}
  ports:
${ports}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${s.name}-slice
  namespace: ${NS}
  labels: { kubernetes.io/service-name: ${s.name} }
addressType: IPv4
ports:
${slicePorts}
endpoints:
${addresses}
`;
}

/** One conformance case: a request and what must come back (and what the backend must have seen). */
export interface ExpectedResponse {
  readonly name: string;
  /** Gateway API feature name the case belongs to (the README lists features by these). */
  readonly feature: string;
  readonly request: RequestSpec;
  /** Status (or any of several); default 200. */
  readonly status?: number | ReadonlyArray<number>;
  /** Pod's backend that must have answered. */
  readonly backend?: string;
  readonly responseHeaders?: Readonly<Record<string, string>>;
  readonly absentResponseHeaders?: ReadonlyArray<string>;
  /** Exact `Location` of a redirect. */
  readonly location?: string;
  /** The request as the backend received it. */
  readonly upstream?: {
    readonly path?: string;
    readonly host?: string;
    readonly method?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly absentHeaders?: ReadonlyArray<string>;
  };
}

export async function expectResponse(cm: ConformanceMesh, c: ExpectedResponse): Promise<Reply> {
  const reply = await cm.call(c.request);
  const statuses = c.status === undefined ? [200] : typeof c.status === 'number' ? [c.status] : c.status;
  assert.ok(statuses.includes(reply.status), `status ${reply.status} not in [${statuses.join(', ')}]; body: ${reply.body.slice(0, 300)}`);
  if (c.backend !== undefined) assert.equal(reply.echo?.backend, c.backend, 'backend that answered');
  for (const [name, value] of Object.entries(c.responseHeaders ?? {})) assert.equal(reply.headers[name.toLowerCase()], value, `response header ${name}`);
  for (const name of c.absentResponseHeaders ?? []) assert.equal(reply.headers[name.toLowerCase()], undefined, `response header ${name} must be absent`);
  if (c.location !== undefined) assert.equal(reply.headers.location, c.location, 'Location');
  const up = c.upstream;
  if (up !== undefined) {
    const seen = reply.echo;
    assert.ok(seen !== undefined, 'the request reached a backend');
    if (up.path !== undefined) assert.equal(seen.path, up.path, 'upstream path');
    if (up.host !== undefined) assert.equal(seen.host, up.host, 'upstream Host');
    if (up.method !== undefined) assert.equal(seen.method, up.method, 'upstream method');
    for (const [name, value] of Object.entries(up.headers ?? {})) assert.equal(seen.headers[name.toLowerCase()], value, `upstream header ${name}`);
    for (const name of up.absentHeaders ?? []) assert.equal(seen.headers[name.toLowerCase()], undefined, `upstream header ${name} must be absent`);
  }
  return reply;
}

/** A route attached to a mesh Service (GAMMA producer route), rules given as YAML lines indented by 2. */
export function meshRoute(name: string, parent: string, rules: string, opts: { readonly port?: number; readonly created?: string } = {}): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
  namespace: ${NS}${opts.created === undefined ? '' : `\n  creationTimestamp: "${opts.created}"`}
spec:
  parentRefs:
  - group: ""
    kind: Service
    name: ${parent}${opts.port === undefined ? '' : `\n    port: ${opts.port}`}
  rules:
${rules}
`;
}
