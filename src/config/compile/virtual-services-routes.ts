// Translates a VirtualService's `http` routes, for one port of one Service, into RouteEntry objects the shared
// data path runs, as Istio's waypointInboundRoute does: one entry per applicable match, in listed order (first
// match wins: VS order, not Gateway API precedence), stopping after a catch-all.
import { DirectResponseFilter } from '../../filters/route/direct-response.js';
import { FaultInjectionFilter } from '../../filters/route/fault-injection.js';
import { RequestHeaderModifierFilter } from '../../filters/route/request-header-modifier.js';
import { RequestMirrorFilter } from '../../filters/route/request-mirror.js';
import { ResponseHeaderModifierFilter } from '../../filters/route/response-header-modifier.js';
import { VirtualServiceCorsFilter } from '../../filters/route/virtual-service-cors.js';
import { VirtualServiceRedirectFilter } from '../../filters/route/virtual-service-redirect.js';
import { jsSubstitution, type PathRewrite, VirtualServiceRewriteFilter } from '../../filters/route/virtual-service-rewrite.js';
import { EMPTY_CHAIN, type FilterChain, type HttpFilter } from '../../filters/types.js';
import { compileFullMatchRegex } from '../../router/match/regex.js';
import type { HeaderModifier, HTTPRouteMatch } from '../model/http-route.js';
import type { ServiceSpec } from '../model/core.js';
import type { Destination, HTTPMatchRequest, VirtualServiceSpec, VsHeaders, VsHttpRoute } from '../model/virtual-service.js';
import type { FieldPath } from '../resource.js';
import type { BackendTarget, ClusterConfig, RouteAction, RouteEntry } from '../snapshot.js';
import type { Valid } from '../validate/validate.js';
import { weightedBackends } from './backends.js';
import { compileVirtualServiceMatch, isCatchAll } from './virtual-services-match.js';
import { corsConfig, faultConfig, perMillion, type Report, virtualServiceUpstreamPolicy } from './virtual-services-policy.js';

export interface VsRouteContext {
  readonly vs: Valid<VirtualServiceSpec>;
  /** The Service port the entries are for (the listener port: `match.port`, default destination port). */
  readonly port: number;
  /** The Service a destination host names (short names in the VS namespace), or undefined. */
  readonly service: (host: string, namespace: string) => Valid<ServiceSpec> | undefined;
  readonly cluster: (serviceKey: string, port: number) => ClusterConfig | undefined;
  readonly report: Report;
  readonly random: () => number;
}

/** RouteEntry.matchSpec of VirtualService entries (the real match is in `virtualService`). */
const PLACEHOLDER_MATCH: HTTPRouteMatch = Object.freeze({ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }) as HTTPRouteMatch;
/** An action never reached: the entry's last filter (redirect, direct response) always answers. */
const ANSWERED_BY_FILTER: RouteAction = Object.freeze({ kind: 'direct', status: 500, details: 'direct_response' });

export function virtualServiceEntries(ctx: VsRouteContext): RouteEntry[] {
  const { vs } = ctx;
  const out: RouteEntry[] = [];
  const http = vs.spec.http ?? [];
  for (let i = 0; i < http.length; i++) {
    const r = http[i] as VsHttpRoute;
    const at: FieldPath = ['spec', 'http', i];
    if (r.delegate !== undefined) {
      ctx.report('warning', 'unsupported-field', [...at, 'delegate'], 'delegate VirtualServices are not supported on waypoints; this route is skipped');
      continue;
    }
    const matches = (r.match ?? []).map((m, j) => ({ m, j })).filter(({ m }) => applies(m, ctx.port));
    if ((r.match ?? []).length > 0 && matches.length === 0) continue;
    const shared = sharedParts(r, at, ctx);
    const list: Array<{ m: HTTPMatchRequest | undefined; j: number }> = matches.length === 0 ? [{ m: undefined, j: 0 }] : matches;
    for (const { m, j } of list) {
      const filters = [...shared.before, ...perMatch(r, m, at, ctx)];
      out.push(Object.freeze({
        name: `${r.name ?? `${vs.raw.metadata.namespace}.${vs.raw.metadata.name}.${i}`}${m?.name === undefined ? '' : `.${m.name}`}`,
        route: vs.key,
        ruleIndex: i,
        matchIndex: j,
        match: compileVirtualServiceMatch(m),
        matchSpec: PLACEHOLDER_MATCH,
        hostnames: null,
        filters: filters.length === 0 ? EMPTY_CHAIN : Object.freeze(filters),
        action: shared.action,
        virtualService: Object.freeze({ match: m ?? null }),
      }));
      // Istio: "Routes are matched in order, so we will never go beyond this match."
      if (isCatchAll(m)) return out;
    }
  }
  return out;
}

/** `port` restricts a match to one Service port; `gateways` without `mesh` keeps it off mesh traffic. */
function applies(m: HTTPMatchRequest, port: number): boolean {
  if (m.port !== undefined && m.port !== port) return false;
  return m.gateways === undefined || m.gateways.length === 0 || m.gateways.includes('mesh');
}

interface SharedParts {
  /** CORS, fault, header edits, then redirect / direct response / mirrors: the same for every match. */
  readonly before: ReadonlyArray<HttpFilter>;
  readonly action: RouteAction;
}

/** Envoy's order: CORS and fault filters run before the router, which applies header edits, then its action. */
function sharedParts(r: VsHttpRoute, at: FieldPath, ctx: VsRouteContext): SharedParts {
  const before: HttpFilter[] = [];
  if (r.corsPolicy !== undefined) before.push(new VirtualServiceCorsFilter(corsConfig(r.corsPolicy)));
  const fault = r.fault === undefined ? undefined : faultConfig(r.fault, [...at, 'fault'], ctx.report, ctx.random);
  if (fault !== undefined) before.push(new FaultInjectionFilter(fault));
  before.push(...headerFilters(r.headers));
  if (r.redirect !== undefined) {
    const d = r.redirect;
    before.push(new VirtualServiceRedirectFilter({
      uri: d.uri, authority: d.authority, scheme: d.scheme,
      port: d.port ?? (d.derivePort === 'FROM_REQUEST_PORT' ? 'request' : undefined),
      code: d.redirectCode === undefined || d.redirectCode === 0 ? 301 : d.redirectCode,
    }));
    return { before, action: ANSWERED_BY_FILTER };
  }
  if (r.directResponse !== undefined) {
    const body = r.directResponse.body;
    const bytes = body?.bytes === undefined ? undefined : Buffer.from(body.bytes, 'base64');
    before.push(new DirectResponseFilter(r.directResponse.status, body?.string ?? bytes?.toString('utf8') ?? '', bytes));
    return { before, action: ANSWERED_BY_FILTER };
  }
  before.push(...mirrorFilters(r, at, ctx));
  const policy = virtualServiceUpstreamPolicy(r.timeout, r.retries, at, ctx.report);
  const backends = weightedBackends(destinations(r, at, ctx));
  return { before, action: policy === undefined ? { kind: 'forward', backends } : { kind: 'forward', backends, policy } };
}

/** The rewrite depends on the match: `uri` replaces what the match matched. */
function perMatch(r: VsHttpRoute, m: HTTPMatchRequest | undefined, at: FieldPath, ctx: VsRouteContext): HttpFilter[] {
  const rw = r.rewrite;
  if (rw === undefined) return [];
  let path: PathRewrite | undefined;
  if (rw.uriRegexRewrite !== undefined) {
    const compiled = compileFullMatchRegex(rw.uriRegexRewrite.match);
    if (!compiled.ok) throw new Error(`uriRegexRewrite ${rw.uriRegexRewrite.match} passed validation but does not compile`);
    // The full-match wrapper `^(?:…)$` is dropped: Envoy's regex_rewrite replaces every match in the path.
    path = { kind: 'regex', regex: new RegExp(compiled.regex.source.slice(4, -2), `${compiled.regex.flags}g`), substitution: jsSubstitution(rw.uriRegexRewrite.rewrite) };
  } else if (rw.uri !== undefined) {
    const uri = m?.uri;
    if (uri?.prefix !== undefined) path = { kind: 'prefix', length: uri.prefix.length, replacement: rw.uri };
    else if (uri !== undefined) path = { kind: 'full', replacement: rw.uri };
    // No URI condition: Envoy's route matches the prefix `/`, which the rewrite replaces.
    else path = { kind: 'prefix', length: 1, replacement: rw.uri };
  }
  if (rw.authority === undefined && path === undefined) {
    ctx.report('warning', 'unsupported-field', [...at, 'rewrite'], 'rewrite sets nothing (uri, uriRegexRewrite or authority)');
    return [];
  }
  return [new VirtualServiceRewriteFilter(rw.authority, path)];
}

/** Istio: header `set` is Envoy's overwrite, `add` appends, `remove` runs first; `:authority`/`host` set rewrites the Host. */
function headerFilters(h: VsHeaders | undefined): HttpFilter[] {
  const out: HttpFilter[] = [];
  if (h?.request !== undefined) out.push(new RequestHeaderModifierFilter(modifier(h.request)));
  if (h?.response !== undefined) out.push(new ResponseHeaderModifierFilter(modifier(h.response)));
  return out;
}

function modifier(ops: NonNullable<VsHeaders['request']>): HeaderModifier {
  const pairs = (m: Readonly<Record<string, string>> | undefined): Array<{ name: string; value: string }> =>
    Object.entries(m ?? {}).map(([name, value]) => ({ name: name === ':authority' ? 'host' : name, value }));
  return { set: pairs(ops.set), add: pairs(ops.add), remove: [...(ops.remove ?? [])] };
}

/**
 * Istio: a destination with weight 0 gets no traffic unless it is the only one (then 100); a host that is not a
 * Service (or a port it lacks) answers 503 `NC` for its share, Envoy's default for a missing cluster.
 */
function destinations(r: VsHttpRoute, at: FieldPath, ctx: VsRouteContext): BackendTarget[] {
  const routes = r.route ?? [];
  return routes.flatMap((d, k): BackendTarget[] => {
    const weight = d.weight === undefined || d.weight === 0 ? (routes.length === 1 ? 100 : 0) : d.weight;
    if (weight === 0) return [];
    const where = [...at, 'route', k, 'destination'];
    const resolved = resolveDestination(d.destination, where, ctx);
    if (!resolved.ok) return [{ kind: 'invalid', weight, reason: 'BackendNotFound', unavailable: true }];
    const filters = headerFilters(d.headers);
    return [filters.length === 0
      ? { kind: 'cluster', weight, cluster: resolved.cluster }
      : { kind: 'cluster', weight, cluster: resolved.cluster, filters: Object.freeze(filters) as FilterChain }];
  });
}

function mirrorFilters(r: VsHttpRoute, at: FieldPath, ctx: VsRouteContext): HttpFilter[] {
  const out: HttpFilter[] = [];
  const add = (d: Destination, percent: number, where: FieldPath): void => {
    // Istio: a 0% mirror is not configured at all.
    if (percent <= 0) return;
    const resolved = resolveDestination(d, where, ctx);
    if (resolved.ok) out.push(new RequestMirrorFilter({ cluster: resolved.cluster, numerator: perMillion(percent), denominator: 1_000_000 }));
  };
  if (r.mirror !== undefined) add(r.mirror, r.mirrorPercentage?.value ?? r.mirrorPercent ?? 100, [...at, 'mirror']);
  r.mirrors?.forEach((m, i) => add(m.destination, m.percentage?.value ?? 100, [...at, 'mirrors', i, 'destination']));
  return out;
}

type Resolution = { readonly ok: true; readonly cluster: ClusterConfig } | { readonly ok: false };

/** Istio's getWaypointDestinationCluster: port = destination port, else the Service's only port, else the listener port. */
function resolveDestination(d: Destination, at: FieldPath, ctx: VsRouteContext): Resolution {
  const ns = ctx.vs.raw.metadata.namespace;
  if (d.subset !== undefined) {
    ctx.report('warning', 'subsets-unsupported', [...at, 'subset'],
      `subset "${d.subset}" is not supported on waypoints and is ignored: the whole Service ${d.host} gets this destination's traffic; create one Service per version instead`);
  }
  const svc = ctx.service(d.host, ns);
  if (svc === undefined) {
    ctx.report('error', 'backend-not-found', [...at, 'host'], `destination host "${d.host}" is not a known Service; requests for its share get 503 (cluster not found)`);
    return { ok: false };
  }
  const ports = svc.spec.ports.filter((p) => p.protocol === 'TCP');
  const port = d.port?.number ?? (ports.length === 1 ? (ports[0]?.port ?? ctx.port) : ctx.port);
  const cluster = ctx.cluster(svc.key, port);
  if (cluster === undefined) {
    ctx.report('error', 'backend-not-found', [...at, d.port === undefined ? 'host' : 'port'], `Service ${svc.key} has no port ${port}; requests for this destination's share get 503 (cluster not found)`);
    return { ok: false };
  }
  return { ok: true, cluster };
}

