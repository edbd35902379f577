// Compiles TLSRoutes and TCPRoutes: each route's one effective rule to a weighted L4 route entry, attached
// to the TCP-capable ports of its parent Services, with Gateway API status per parentRef; then, per Service
// port, the L4 routing table (TLSRoute beats TCPRoute on the same port, GEP-1294).
import type { L4RouteEntry, L4Routing, L4Table, SniTable } from '../../l4/l4-routing.js';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { ServiceSpec } from '../model/core.js';
import type { TCPRouteSpec } from '../model/tcp-route.js';
import type { TLSRouteSpec } from '../model/tls-route.js';
import type { RawResource } from '../resource.js';
import type { BackendTarget, ClusterConfig, PortProtocol } from '../snapshot.js';
import { condition, type Condition, CONTROLLER_NAME, type RouteStatus } from '../status.js';
import type { Valid } from '../validate/validate.js';
import { type RefFailure, resolveBackendRef, weightedBackends } from './backends.js';
import type { HttpRouteContext } from './http-routes.js';
import { portProtocol } from './protocol.js';
import { resolveParent } from './route-parents.js';
import { parentRefRecord, waypointCondition } from './route-status.js';

type L4Kind = 'TLSRoute' | 'TCPRoute';

/** One route attached to some ports of one Service, for one route group (producer or a consumer namespace). */
export interface L4Attachment {
  readonly kind: L4Kind;
  readonly raw: RawResource;
  /** Gateway API conflict order: oldest first, then `namespace/name`, then source order. */
  readonly created: number;
  readonly key: string;
  readonly seq: number;
  readonly service: string;
  /** The Service's TCP-capable ports this attachment applies to (ports a TLSRoute already claims are removed for a TCPRoute). */
  readonly ports: ReadonlySet<number>;
  /** Consumer route (GEP-1294): the client namespace it applies to; undefined for producer routes. */
  readonly consumerNamespace: string | undefined;
  /** TLSRoute: lower-cased SNI hostnames. */
  readonly hostnames: ReadonlyArray<string>;
  readonly entry: L4RouteEntry;
}

export interface L4RouteCompileResult {
  readonly attachments: ReadonlyArray<L4Attachment>;
  readonly statuses: ReadonlyArray<RouteStatus>;
}

/** Service port protocols that are routed at L4: declared TCP/TLS, and undeclared (non-HTTP after sniffing). */
export function routedAtL4(protocol: PortProtocol): boolean {
  return protocol === 'tcp' || protocol === 'tls' || protocol === 'unknown';
}

/** A Service port (or every port) an HTTPRoute or GRPCRoute of one route group attaches to. */
export interface HttpClaim {
  readonly service: string;
  readonly port: number | undefined;
  readonly consumerNamespace: string | undefined;
}

export function compileL4Routes(
  tlsRoutes: ReadonlyArray<Valid<TLSRouteSpec>>,
  tcpRoutes: ReadonlyArray<Valid<TCPRouteSpec>>,
  ctx: HttpRouteContext,
  diagnostics: Diagnostic[],
  httpClaims: ReadonlyArray<HttpClaim> = [],
): L4RouteCompileResult {
  const attachments: L4Attachment[] = [];
  const statuses: RouteStatus[] = [];
  // TLSRoutes first: a TCPRoute only gets the ports no TLSRoute of its group claims.
  for (const route of tlsRoutes) statuses.push(compileRoute('TLSRoute', route, route.spec.hostnames, ctx, attachments, diagnostics, httpClaims));
  for (const route of tcpRoutes) statuses.push(compileRoute('TCPRoute', route, [], ctx, attachments, diagnostics, httpClaims));
  return { attachments, statuses };
}

function compileRoute(
  kind: L4Kind,
  route: Valid<TLSRouteSpec> | Valid<TCPRouteSpec>,
  hostnames: ReadonlyArray<string>,
  ctx: HttpRouteContext,
  attachments: L4Attachment[],
  diagnostics: Diagnostic[],
  httpClaims: ReadonlyArray<HttpClaim>,
): RouteStatus {
  const ns = route.raw.metadata.namespace;
  const generation = route.raw.metadata.generation;
  const { entry, refFailure } = compileRule(kind, route, ctx, diagnostics);
  route.spec.rules.forEach((_, i) => {
    if (i === 0) return;
    // L4 rules have no matches, so the first rule takes every connection (as Envoy's first tcp_proxy route).
    diagnostics.push(resourceDiagnostic(route.raw, 'warning', 'unreachable-rule', ['spec', 'rules', i],
      `${kind} rules have no matches: only the first rule receives connections; this rule is never used`));
  });
  const parents = route.spec.parentRefs.map((ref, p) => {
    const conditions: Condition[] = [];
    const resolution = resolveParent(ref, ns, [], ctx.services, ctx.gateways);
    if (!resolution.ok) {
      conditions.push(condition('Accepted', 'False', resolution.reason, resolution.message, generation));
      diagnostics.push(resourceDiagnostic(route.raw, 'error', 'parent-not-found', ['spec', 'parentRefs', p], resolution.message));
    } else if (resolution.target.kind === 'gateway') {
      const message = `the waypoint Gateway's HBONE listener does not accept ${kind}; attach it to a Service (group "", kind Service)`;
      conditions.push(condition('Accepted', 'False', 'NotAllowedByListeners', message, generation));
      diagnostics.push(resourceDiagnostic(route.raw, 'error', 'parent-not-allowed', ['spec', 'parentRefs', p], message));
    } else {
      const target = resolution.target;
      const svc = ctx.services.get(target.service) as Valid<ServiceSpec>;
      const accepted = attach(kind, route, svc, target.port, target.consumerNamespace, hostnames, entry, attachments, ctx.backends.clusterDomain, httpClaims);
      if (accepted.ok) {
        conditions.push(condition('Accepted', 'True', 'Accepted', 'Route was valid', generation));
        if (accepted.warning !== undefined) diagnostics.push(resourceDiagnostic(route.raw, 'warning', 'route-conflict', ['spec', 'parentRefs', p], accepted.warning));
      } else {
        conditions.push(condition('Accepted', 'False', accepted.reason, accepted.message, generation));
        diagnostics.push(resourceDiagnostic(route.raw, accepted.reason === 'Conflicted' ? 'warning' : 'error',
          accepted.reason === 'Conflicted' ? 'route-conflict' : 'parent-not-allowed', ['spec', 'parentRefs', p], accepted.message));
      }
      conditions.push(waypointCondition(target.service, ctx.bindings, generation));
    }
    conditions.push(refFailure === undefined
      ? condition('ResolvedRefs', 'True', 'ResolvedRefs', 'All references resolved', generation)
      : condition('ResolvedRefs', 'False', refFailure.reason, refFailure.message, generation));
    return { parentRef: parentRefRecord(ref), controllerName: CONTROLLER_NAME, conditions };
  });
  if (kind === 'TLSRoute' && hostnames.length === 0 && route.spec.parentRefs.length > 0) {
    diagnostics.push(resourceDiagnostic(route.raw, 'info', 'hostnames-defaulted', ['spec', 'hostnames'],
      'no hostnames: the route matches the SNI of its parent Service\'s own hostname (<name>.<namespace>.svc.<domain>), as Istio does'));
  }
  return { kind, namespace: ns, name: route.raw.metadata.name, parents };
}

function compileRule(
  kind: L4Kind,
  route: Valid<TLSRouteSpec> | Valid<TCPRouteSpec>,
  ctx: HttpRouteContext,
  diagnostics: Diagnostic[],
): { readonly entry: L4RouteEntry; readonly refFailure: RefFailure | undefined } {
  const ns = route.raw.metadata.namespace;
  const rule = route.spec.rules[0];
  let refFailure: RefFailure | undefined;
  // GEP-1294: mesh routes need no ReferenceGrant for cross-namespace backends; routes with other parents do.
  const requireGrant = route.spec.parentRefs.some((p) => !(p.kind === 'Service' && (p.group === '' || p.group === 'core')));
  const targets: BackendTarget[] = (rule?.backendRefs ?? []).map((ref, b) => {
    const resolved = resolveBackendRef(ref, { kind, namespace: ns, requireGrant }, ctx.backends);
    if (resolved.ok) return { kind: 'cluster', weight: ref.weight, cluster: resolved.cluster };
    refFailure ??= resolved;
    diagnostics.push(resourceDiagnostic(route.raw, 'error', resolved.reason === 'BackendNotFound' ? 'backend-not-found' : 'invalid-backend',
      ['spec', 'rules', 0, 'backendRefs', b], `${resolved.message}; connections for this backend's share are rejected`));
    return { kind: 'invalid', weight: ref.weight, reason: resolved.reason };
  });
  const entry: L4RouteEntry = Object.freeze({
    name: rule?.name ?? `${ns}.${route.raw.metadata.name}.0`,
    route: route.key,
    kind,
    backends: weightedBackends(targets),
  });
  return { entry, refFailure };
}

type AttachOutcome =
  | { readonly ok: true; readonly warning: string | undefined }
  | { readonly ok: false; readonly reason: 'NotAllowedByListeners' | 'Conflicted'; readonly message: string };

function attach(
  kind: L4Kind,
  route: Valid<TLSRouteSpec> | Valid<TCPRouteSpec>,
  svc: Valid<ServiceSpec>,
  port: number | undefined,
  consumerNamespace: string | undefined,
  hostnames: ReadonlyArray<string>,
  entry: L4RouteEntry,
  attachments: L4Attachment[],
  clusterDomain: string,
  httpClaims: ReadonlyArray<HttpClaim>,
): AttachOutcome {
  const candidates = svc.spec.ports.filter((p) => (port === undefined || p.port === port) && p.protocol === 'TCP');
  const l4Ports = candidates.filter((p) => routedAtL4(portProtocol(p.appProtocol, p.name))).map((p) => p.port);
  if (l4Ports.length === 0) {
    const only = candidates[0];
    const message = port !== undefined && only !== undefined
      ? `Service port ${port} is declared ${portProtocol(only.appProtocol, only.name)} (appProtocol or port name); ${kind} applies to tcp, tls or undeclared ports`
      : `Service "${svc.raw.metadata.name}" has no tcp, tls or undeclared TCP port for ${kind}`;
    return { ok: false, reason: 'NotAllowedByListeners', message };
  }
  let ports = new Set(l4Ports);
  let warning: string | undefined;
  // GEP-1294: "If multiple routes with different types both bind to the same Service and Port pair, only a
  // single route type should be applied" (GRPCRoute > HTTPRoute > TLSRoute > TCPRoute). Only undeclared
  // ports can carry both HTTP and L4 traffic; on declared tcp/tls ports HTTP routes never apply.
  const undeclared = new Set(candidates.filter((p) => portProtocol(p.appProtocol, p.name) === 'unknown').map((p) => p.port));
  const lostToHttp = l4Ports.filter((n) => undeclared.has(n) && httpClaims.some((c) => c.service === svc.key && c.consumerNamespace === consumerNamespace && (c.port === undefined || c.port === n)));
  if (lostToHttp.length > 0) {
    const text = `an HTTPRoute or GRPCRoute also attaches to Service ${svc.key} port ${lostToHttp.join(', ')}; it takes precedence over ${kind} there (GEP-1294)`;
    if (lostToHttp.length === l4Ports.length) return { ok: false, reason: 'Conflicted', message: text };
    ports = new Set(l4Ports.filter((n) => !lostToHttp.includes(n)));
    warning = text;
  }
  if (kind === 'TCPRoute') {
    // GEP-1294: one route kind per Service port; TLSRoute takes precedence over TCPRoute.
    const winners = attachments.filter((a) => a.kind === 'TLSRoute' && a.service === svc.key && a.consumerNamespace === consumerNamespace && l4Ports.some((n) => a.ports.has(n)));
    const lost = [...ports].filter((n) => winners.some((a) => a.ports.has(n)));
    if (lost.length > 0) {
      const names = [...new Set(winners.map((a) => a.key))].join(', ');
      const text = `TLSRoute ${names} also attaches to Service ${svc.key} port ${lost.join(', ')}; TLSRoute takes precedence over TCPRoute there (GEP-1294)`;
      if (lost.length === ports.size) return { ok: false, reason: 'Conflicted', message: text };
      ports = new Set([...ports].filter((n) => !lost.includes(n)));
      warning = warning === undefined ? text : `${warning}; ${text}`;
    }
  }
  const own = `${svc.raw.metadata.name}.${svc.raw.metadata.namespace}.svc.${clusterDomain}`;
  attachments.push({
    kind,
    raw: route.raw,
    created: Number.isNaN(route.created) ? Number.POSITIVE_INFINITY : route.created,
    key: route.key,
    seq: route.raw.seq,
    service: svc.key,
    ports,
    consumerNamespace,
    // Istio: a mesh TLSRoute without hostnames matches the parent Service's own host as SNI.
    hostnames: kind === 'TLSRoute' ? (hostnames.length === 0 ? [own] : hostnames.map((h) => h.toLowerCase())) : [],
    entry,
  });
  return { ok: true, warning };
}

/** The L4 routing of one Service port, from the attachments that apply to it. */
export function l4RoutingFor(
  serviceKey: string,
  port: number,
  protocol: PortProtocol,
  cluster: ClusterConfig,
  attachments: ReadonlyArray<L4Attachment>,
  diagnostics: Diagnostic[],
): L4Routing {
  const fallback: L4Table = Object.freeze({ kind: 'service-default', cluster });
  const groups = new Map<string | undefined, L4Attachment[]>();
  if (routedAtL4(protocol)) {
    for (const a of attachments) {
      if (a.service !== serviceKey || !a.ports.has(port)) continue;
      const list = groups.get(a.consumerNamespace) ?? [];
      list.push(a);
      groups.set(a.consumerNamespace, list);
    }
  }
  const consumers = new Map<string, L4Table>();
  for (const [ns, list] of [...groups].sort(([a], [b]) => ((a ?? '') < (b ?? '') ? -1 : 1))) {
    if (ns !== undefined) consumers.set(ns, tableFor(list.sort(byAge), port, diagnostics));
  }
  const producer = groups.get(undefined);
  return Object.freeze({ producer: producer === undefined ? fallback : tableFor(producer.sort(byAge), port, diagnostics), consumers });
}

function tableFor(sorted: ReadonlyArray<L4Attachment>, port: number, diagnostics: Diagnostic[]): L4Table {
  const tls = sorted.filter((a) => a.kind === 'TLSRoute');
  if (tls.length > 0) return Object.freeze({ kind: 'tls', sni: sniTable(tls, port, diagnostics) });
  // TCPRoute rules have no matches: the oldest route takes every connection of the group.
  const first = sorted[0] as L4Attachment;
  for (const a of sorted.slice(1)) {
    diagnostics.push(resourceDiagnostic(a.raw, 'warning', 'route-shadowed', ['spec', 'parentRefs'],
      `TCPRoute ${first.key} is older (or first by namespace/name) on Service ${a.service} port ${port} and takes every connection; this TCPRoute receives none there`));
  }
  return Object.freeze({ kind: 'tcp', entry: first.entry });
}

/** Hostnames of every TLSRoute on the port; for a hostname listed twice, the oldest route wins. */
function sniTable(routes: ReadonlyArray<L4Attachment>, port: number, diagnostics: Diagnostic[]): SniTable {
  const exact = new Map<string, L4RouteEntry>();
  const wild = new Map<string, L4RouteEntry>();
  const owner = new Map<string, string>();
  for (const a of routes) {
    for (const h of a.hostnames) {
      const isWild = h.startsWith('*.');
      const map = isWild ? wild : exact;
      const name = isWild ? h.slice(1) : h;
      if (!map.has(name)) {
        map.set(name, a.entry);
        owner.set(h, a.key);
      } else if (owner.get(h) !== a.key) {
        diagnostics.push(resourceDiagnostic(a.raw, 'warning', 'route-shadowed', ['spec', 'hostnames'],
          `hostname ${h} on Service ${a.service} port ${port} is already routed by the older TLSRoute ${owner.get(h) ?? ''}; connections for it go there`));
      }
    }
  }
  const wildcards = [...wild].map(([suffix, entry]) => Object.freeze({ suffix, entry })).sort((a, b) => b.suffix.length - a.suffix.length);
  return Object.freeze({ exact, wildcards: Object.freeze(wildcards) });
}

function byAge(a: L4Attachment, b: L4Attachment): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.seq - b.seq;
}


