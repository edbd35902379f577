// VirtualService on the waypoint (Istio: alpha): which VirtualServices apply to a served Service, and its HTTP
// route tables from them. Istio's waypoint uses a VS when one of its `hosts` names the Service, it is bound to
// `mesh`, visible to the waypoint (`exportTo`) and lives in the Service's or the waypoint's namespace; a Gateway
// API route on the Service takes precedence (the VS is shadowed, reported). Several VS for one host are merged
// in creation order (Istio ≥ 1.28, istio/istio#59484) and reported as IST0109.
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { ServiceSpec } from '../model/core.js';
import type { VirtualServiceSpec } from '../model/virtual-service.js';
import type { FieldPath } from '../resource.js';
import type { ClusterConfig, HttpRouting, RouteEntry, ServiceConfig, ServicePortConfig } from '../snapshot.js';
import type { Valid } from '../validate/validate.js';
import type { Report } from './virtual-services-policy.js';
import { virtualServiceEntries } from './virtual-services-routes.js';

export interface VirtualServiceInput {
  readonly virtualServices: ReadonlyArray<Valid<VirtualServiceSpec>>;
  readonly services: ReadonlyMap<string, Valid<ServiceSpec>>;
  readonly cluster: (serviceKey: string, port: number) => ClusterConfig | undefined;
  readonly clusterDomain: string;
  readonly waypointNamespace: string;
  /** Fault injection's dice; Math.random unless a test decides. */
  readonly random?: () => number;
}

const NO_CONSUMERS: ReadonlyMap<string, ReadonlyArray<RouteEntry>> = new Map();

export class VirtualServiceRoutes {
  readonly #input: VirtualServiceInput;
  readonly #diagnostics: Diagnostic[];
  readonly #reported = new Set<string>();
  /** VirtualServices bound to `mesh`, oldest first (Istio's order for merging). */
  readonly #mesh: ReadonlyArray<Valid<VirtualServiceSpec>>;
  readonly #byHostname = new Map<string, Valid<ServiceSpec>>();
  /** VS keys whose hosts named a served Service, and those that programmed routes. */
  readonly #matched = new Set<string>();

  constructor(input: VirtualServiceInput, diagnostics: Diagnostic[]) {
    this.#input = input;
    this.#diagnostics = diagnostics;
    for (const svc of input.services.values()) this.#byHostname.set(`${svc.raw.metadata.name}.${svc.raw.metadata.namespace}.svc.${input.clusterDomain}`, svc);
    const sorted = [...input.virtualServices].sort((a, b) => a.created - b.created || a.raw.seq - b.raw.seq || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const mesh: Array<Valid<VirtualServiceSpec>> = [];
    for (const vs of sorted) {
      const gateways = vs.spec.gateways ?? [];
      if (gateways.length > 0 && !gateways.includes('mesh')) {
        this.#report(vs, 'info', 'virtual-service-not-applied', ['spec', 'gateways'],
          `bound to gateways ${gateways.join(', ')} only: a waypoint applies VirtualServices bound to "mesh" (add it to gateways, or omit the field)`);
        continue;
      }
      mesh.push(vs);
      this.#reportUnsupported(vs);
    }
    this.#mesh = mesh;
    this.#reportConflicts();
  }

  /** The Service's config with VirtualService routing on its HTTP ports that have no Gateway API route. */
  apply(config: ServiceConfig): ServiceConfig {
    const applicable = this.#applicable(config);
    if (applicable.length === 0) return config;
    let changed = false;
    const ports = config.ports.map((p): ServicePortConfig => {
      if (p.protocol === 'tcp' || p.protocol === 'tls') return p;
      if (p.http.kind === 'routes') {
        // Istio orders Gateway API routes before VirtualServices; with a catch-all route the VS is never reached.
        const routes = routeNames(p.http);
        for (const vs of applicable) {
          this.#report(vs, 'warning', 'virtual-service-shadowed', ['spec', 'hosts'],
            `shadowed on Service ${config.key} port ${p.port} by ${routes.join(', ')}: the Gateway API route applies and this VirtualService has no effect there (Istio does not mix them for one Service)`);
        }
        return p;
      }
      const entries: RouteEntry[] = [];
      for (const vs of applicable) entries.push(...virtualServiceEntries({
        vs,
        port: p.port,
        service: (host, ns) => this.#service(host, ns),
        cluster: this.#input.cluster,
        report: (severity, code, path, message) => this.#report(vs, severity, code, path, message),
        random: this.#input.random ?? Math.random,
      }));
      // Istio: a VS with no route for this port ("no routes matched") leaves the port's default routing.
      if (entries.length === 0) return p;
      changed = true;
      const http: HttpRouting = Object.freeze({ kind: 'routes', producer: Object.freeze(entries), consumers: NO_CONSUMERS });
      return Object.freeze({ ...p, http });
    });
    return changed ? Object.freeze({ ...config, ports: Object.freeze(ports) }) : config;
  }

  /** Reports the mesh VirtualServices whose hosts named no Service this waypoint serves. */
  finish(): void {
    for (const vs of this.#mesh) {
      if (this.#matched.has(vs.key)) continue;
      this.#report(vs, 'info', 'virtual-service-not-applied', ['spec', 'hosts'],
        `hosts ${(vs.spec.hosts ?? []).join(', ')} name no Service served by this waypoint; the VirtualService has no effect here`);
    }
  }

  /** VirtualServices for the Service, oldest first; those excluded by namespace or exportTo are reported. */
  #applicable(config: ServiceConfig): Array<Valid<VirtualServiceSpec>> {
    const out: Array<Valid<VirtualServiceSpec>> = [];
    const waypointNs = this.#input.waypointNamespace;
    for (const vs of this.#mesh) {
      const ns = vs.raw.metadata.namespace;
      const host = (vs.spec.hosts ?? []).findIndex((h) => this.#hostMatches(h, ns, config));
      if (host === -1) continue;
      this.#matched.add(vs.key);
      if (!visibleTo(vs.spec.exportTo, ns, waypointNs)) {
        this.#report(vs, 'warning', 'virtual-service-not-applied', ['spec', 'exportTo'],
          `not exported to the waypoint's namespace ${waypointNs}, so the waypoint does not see it and Service ${config.key} keeps its default routing`);
        continue;
      }
      if (ns !== config.namespace && ns !== waypointNs) {
        this.#report(vs, 'warning', 'virtual-service-not-applied', ['spec', 'hosts', host],
          `names Service ${config.key}, but a waypoint only uses VirtualServices in the Service's namespace (${config.namespace}) or its own (${waypointNs}); it is not applied`);
        continue;
      }
      out.push(vs);
    }
    return out;
  }

  /**
   * Istio resolves a short host in the VS namespace; `name.namespace` and `name.namespace.svc` are accepted
   * for a Service of that name (Kubernetes DNS forms); `*.suffix` wildcards match by suffix.
   */
  #hostMatches(host: string, ns: string, config: ServiceConfig): boolean {
    const h = host.toLowerCase();
    if (h.startsWith('*.')) return config.hostname.endsWith(h.slice(1));
    return this.#fqdn(h, ns) === config.hostname;
  }

  #fqdn(host: string, ns: string): string {
    const domain = this.#input.clusterDomain;
    if (!host.includes('.')) return `${host}.${ns}.svc.${domain}`;
    if (host.endsWith('.svc')) return `${host}.${domain}`;
    if (host.split('.').length === 2 && this.#byHostname.has(`${host}.svc.${domain}`)) return `${host}.svc.${domain}`;
    return host;
  }

  #service(host: string, ns: string): Valid<ServiceSpec> | undefined {
    return this.#byHostname.get(this.#fqdn(host.toLowerCase(), ns));
  }

  /** IST0109: several mesh VirtualServices define the same host (resolved). Reported on each of them. */
  #reportConflicts(): void {
    const byHost = new Map<string, Array<{ vs: Valid<VirtualServiceSpec>; index: number }>>();
    for (const vs of this.#mesh) {
      (vs.spec.hosts ?? []).forEach((h, index) => {
        const fqdn = h.startsWith('*') ? h.toLowerCase() : this.#fqdn(h.toLowerCase(), vs.raw.metadata.namespace);
        const list = byHost.get(fqdn) ?? [];
        if (!list.some((e) => e.vs === vs)) list.push({ vs, index });
        byHost.set(fqdn, list);
      });
    }
    for (const [host, list] of byHost) {
      if (list.length < 2) continue;
      const names = list.map((e) => e.vs.key).join(', ');
      for (const { vs, index } of list) {
        this.#report(vs, 'warning', 'virtual-service-conflict', ['spec', 'hosts', index],
          `The VirtualServices ${names} associated with mesh gateway define the same host ${host} which can lead to undefined behavior. ` +
          `This waypoint merges their http routes in creation order (${list[0]?.vs.key ?? ''} first; a catch-all route hides everything after it)`);
      }
    }
  }

  /** Fields a waypoint cannot apply, said once per VirtualService. */
  #reportUnsupported(vs: Valid<VirtualServiceSpec>): void {
    for (const section of ['tcp', 'tls'] as const) {
      if ((vs.spec[section] ?? []).length === 0) continue;
      this.#report(vs, 'warning', 'unsupported-field', ['spec', section],
        `${section} routes of a VirtualService are not applied by this waypoint; use a ${section === 'tcp' ? 'TCPRoute' : 'TLSRoute'} with a Service parentRef`);
    }
    vs.spec.http?.forEach((r, i) => r.match?.forEach((m, j) => {
      for (const field of ['sourceLabels', 'sourceNamespace'] as const) {
        if (m[field] === undefined) continue;
        this.#report(vs, 'warning', 'unsupported-field', ['spec', 'http', i, 'match', j, field],
          `${field} is not supported on waypoints and is dropped, as Istio does: this match applies to requests from every client (use an AuthorizationPolicy to restrict clients)`);
      }
    }));
  }

  #report(vs: Valid<VirtualServiceSpec>, severity: Diagnostic['severity'], code: string, path: FieldPath, message: string): void {
    const key = `${vs.key}\u0000${code}\u0000${path.join('.')}\u0000${message}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#diagnostics.push(resourceDiagnostic(vs.raw, severity, code, path, message));
  }
}

/** Istio's exportTo: absent or `*` = every namespace, `.` = its own, `~` = none, else the listed namespaces. */
function visibleTo(exportTo: ReadonlyArray<string> | undefined, own: string, namespace: string): boolean {
  if (exportTo === undefined || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === namespace || (e === '.' && own === namespace));
}

/** `HTTPRoute ns/name` / `GRPCRoute ns/name` of the entries in a Gateway API routing table. */
function routeNames(http: HttpRouting & { kind: 'routes' }): string[] {
  const names = new Set<string>();
  for (const e of [...http.producer, ...[...http.consumers.values()].flat()]) {
    if (e.route === '') continue;
    names.add(`${e.grpc === undefined ? 'HTTPRoute' : 'GRPCRoute'} ${e.route}${e.hostnames === null ? '' : ' (on the waypoint Gateway)'}`);
  }
  return [...names].sort();
}

/** Exported for unit tests. */
export { visibleTo };
