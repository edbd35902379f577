// Compiles an HTTPRoute filter list (rule or backendRef level) into a FilterChain in listed order, after the
// checks the Gateway API CRDs make with CEL and the ones the spec leaves to the controller. A list that
// cannot be applied as written makes the rule answer 500 (a filter "MUST NOT be skipped") and is reported.
import { CorsFilter } from '../../filters/route/cors.js';
import { DirectResponseFilter } from '../../filters/route/direct-response.js';
import { FaultInjectionFilter } from '../../filters/route/fault-injection.js';
import { validOrigin } from '../../filters/route/cors-origin.js';
import { HeaderEdits } from '../../filters/route/header-edits.js';
import { PathModifier } from '../../filters/route/path-modifier.js';
import { RequestHeaderModifierFilter } from '../../filters/route/request-header-modifier.js';
import { RequestMirrorFilter } from '../../filters/route/request-mirror.js';
import { RequestRedirectFilter } from '../../filters/route/request-redirect.js';
import { ResponseHeaderModifierFilter } from '../../filters/route/response-header-modifier.js';
import { UrlRewriteFilter } from '../../filters/route/url-rewrite.js';
import { EMPTY_CHAIN, type FilterChain, type HttpFilter } from '../../filters/types.js';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import { HTTP_ROUTE_FILTER_TYPES, type HTTPRouteFilter, type HTTPRouteFilterType, type HTTPRouteMatch } from '../model/http-route.js';
import type { FieldPath, RawResource } from '../resource.js';
import { type BackendIndex, resolveBackendRef } from './backends.js';

/** Why a rule (or one of its references) is not what the user asked for, as a route condition reports it. */
export interface RuleProblem {
  readonly condition: 'Accepted' | 'ResolvedRefs';
  readonly reason: string;
  readonly message: string;
}

export interface CompiledFilters {
  readonly chain: FilterChain;
  /** The list cannot be applied as written: requests matching the rule get 500. */
  readonly invalid: RuleProblem | undefined;
  /** Mirror backends that did not resolve: dropped from the chain ("not configure this backend"). */
  readonly refFailures: ReadonlyArray<RuleProblem>;
}

export interface FilterContext {
  /** The route the filters belong to (HTTPRoute, or GRPCRoute whose filters are a subset). */
  readonly route: { readonly raw: RawResource };
  readonly backends: BackendIndex;
  /** The rule's matches (ReplacePrefixMatch needs exactly one, a PathPrefix). */
  readonly matches: ReadonlyArray<HTTPRouteMatch>;
  readonly level: 'rule' | 'backendRef';
  readonly hasBackendRefs: boolean;
  /** Mesh routes reach any namespace without a ReferenceGrant (GEP-1294); Gateway-bound ones need one. */
  readonly requireGrant: boolean;
}

/** The field holding each type's configuration. */
const CONFIG_FIELD: Readonly<Record<HTTPRouteFilterType, keyof HTTPRouteFilter>> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
  ExtensionRef: 'extensionRef',
};

/** "Specifying the same filter multiple times is not supported unless explicitly indicated in the filter." */
const REPEATABLE = new Set<string>(['RequestMirror', 'ExtensionRef']);

/** RFC 1123 hostname without wildcard (Gateway API PreciseHostname). */
const PRECISE_HOSTNAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isKnownType(type: string): type is HTTPRouteFilterType {
  return (HTTP_ROUTE_FILTER_TYPES as ReadonlyArray<string>).includes(type);
}

export function compileRouteFilters(
  filters: ReadonlyArray<HTTPRouteFilter>,
  ctx: FilterContext,
  at: FieldPath,
  diagnostics: Diagnostic[],
): CompiledFilters {
  if (filters.length === 0) return { chain: EMPTY_CHAIN, invalid: undefined, refFailures: [] };
  const raw = ctx.route.raw;
  let invalid: RuleProblem | undefined;
  const fail = (path: FieldPath, reason: string, message: string): void => {
    diagnostics.push(resourceDiagnostic(raw, 'error', reason === 'IncompatibleFilters' ? 'incompatible-filters' : 'invalid-filter', path,
      `${message}; requests matching this rule get 500`));
    invalid ??= { condition: 'Accepted', reason, message };
  };
  const counts = new Map<string, number>();
  filters.forEach((f, i) => {
    counts.set(f.type, (counts.get(f.type) ?? 0) + 1);
    checkFilter(f, ctx, [...at, i], fail);
  });
  for (const [type, n] of counts) {
    if (n > 1 && !REPEATABLE.has(type)) fail(at, 'IncompatibleFilters', `${type} filter cannot be repeated`);
  }
  if (counts.has('RequestRedirect') && counts.has('URLRewrite')) {
    fail(at, 'IncompatibleFilters', 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both');
  }
  if (ctx.level === 'rule' && ctx.hasBackendRefs && counts.has('RequestRedirect')) {
    fail(at, 'UnsupportedValue', 'RequestRedirect filter must not be used together with backendRefs');
  }
  if (invalid !== undefined) return { chain: EMPTY_CHAIN, invalid, refFailures: [] };

  const chain: HttpFilter[] = [];
  const refFailures: RuleProblem[] = [];
  filters.forEach((f, i) => {
    const built = buildFilter(f, ctx);
    if (built.kind === 'filter') chain.push(built.filter);
    else {
      refFailures.push({ condition: 'ResolvedRefs', reason: built.reason, message: built.message });
      diagnostics.push(resourceDiagnostic(raw, 'error', built.reason === 'BackendNotFound' ? 'backend-not-found' : 'invalid-backend',
        [...at, i, 'requestMirror', 'backendRef'], `${built.message}; this mirror is not configured`));
    }
  });
  return { chain: chain.length === 0 ? EMPTY_CHAIN : Object.freeze(chain), invalid: undefined, refFailures };
}

type Fail = (path: FieldPath, reason: string, message: string) => void;

/** The per-filter checks (the CRD's CEL rules and the controller's own), reporting through `fail`. */
function checkFilter(f: HTTPRouteFilter, ctx: FilterContext, at: FieldPath, fail: Fail): void {
  const type = f.type;
  if (!isKnownType(type)) {
    fail([...at, 'type'], 'UnsupportedValue', `unsupported filter type "${type}": use one of ${HTTP_ROUTE_FILTER_TYPES.join(', ')}`);
    return;
  }
  for (const [other, field] of Object.entries(CONFIG_FIELD)) {
    if (other !== type && f[field] !== undefined) fail([...at, field], 'UnsupportedValue', `filter.${field} must be nil if the filter.type is not ${other}`);
  }
  if (f[CONFIG_FIELD[type]] === undefined) {
    fail([...at, 'type'], 'UnsupportedValue', `filter.${CONFIG_FIELD[type]} must be specified for ${type} filter.type`);
    return;
  }
  switch (type) {
    case 'ExtensionRef': {
      const ref = f.extensionRef;
      // "If a reference to a custom filter type cannot be resolved, the filter MUST NOT be skipped. Instead,
      // requests that would have been processed by that filter MUST receive a HTTP error response."
      fail([...at, 'extensionRef'], 'IncompatibleFilters',
        `unsupported filter type "ExtensionRef" (${ref?.group ?? ''}/${ref?.kind ?? ''} ${ref?.name ?? ''}): this waypoint has no extension filters`);
      return;
    }
    case 'ExternalAuth':
      fail([...at, 'externalAuth'], 'IncompatibleFilters', 'unsupported filter type "ExternalAuth": use an AuthorizationPolicy with action CUSTOM for external authorization');
      return;
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const field = CONFIG_FIELD[type];
      const m = type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier;
      if (m === undefined) return;
      const seen = new Set<string>();
      for (const name of HeaderEdits.names(m)) {
        // "Only one action for a given header name is permitted."
        if (seen.has(name)) fail([...at, field], 'UnsupportedValue', `header "${name}" has more than one action; only one action per header name is permitted`);
        seen.add(name);
      }
      return;
    }
    case 'RequestRedirect':
    case 'URLRewrite': {
      const cfg = type === 'RequestRedirect' ? f.requestRedirect : f.urlRewrite;
      const field = CONFIG_FIELD[type];
      if (cfg?.hostname !== undefined && !PRECISE_HOSTNAME.test(cfg.hostname)) {
        fail([...at, field, 'hostname'], 'UnsupportedValue', `hostname "${cfg.hostname}" must be a lower-case RFC 1123 hostname without wildcard`);
      }
      const path = cfg?.path;
      if (path === undefined) return;
      if (path.type === 'ReplaceFullPath' && (path.replaceFullPath === undefined || path.replacePrefixMatch !== undefined)) {
        fail([...at, field, 'path'], 'UnsupportedValue', 'replaceFullPath must be specified (and only it) when type is set to \'ReplaceFullPath\'');
      }
      if (path.type === 'ReplacePrefixMatch') {
        if (path.replacePrefixMatch === undefined || path.replaceFullPath !== undefined) {
          fail([...at, field, 'path'], 'UnsupportedValue', 'replacePrefixMatch must be specified (and only it) when type is set to \'ReplacePrefixMatch\'');
        } else if (ctx.matches.length !== 1 || ctx.matches[0]?.path.type !== 'PathPrefix') {
          const name = type === 'URLRewrite' ? 'URLRewrite' : 'RequestRedirect';
          fail([...at, field, 'path'], 'UnsupportedValue', `When using ${name} filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified`);
        }
      }
      return;
    }
    case 'RequestMirror': {
      const m = f.requestMirror;
      if (m?.percent !== undefined && m.fraction !== undefined) {
        fail([...at, 'requestMirror'], 'UnsupportedValue', 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter');
      }
      if (m?.fraction !== undefined && m.fraction.numerator > m.fraction.denominator) {
        fail([...at, 'requestMirror', 'fraction'], 'UnsupportedValue', 'numerator must be less than or equal to denominator');
      }
      return;
    }
    case 'CORS': {
      const c = f.cors;
      if (c === undefined) return;
      for (const [field, list] of [['allowOrigins', c.allowOrigins], ['allowMethods', c.allowMethods], ['allowHeaders', c.allowHeaders]] as const) {
        if (list.includes('*') && list.length > 1) fail([...at, 'cors', field], 'UnsupportedValue', `${field} cannot contain '*' alongside other values`);
      }
      c.allowOrigins.forEach((o, j) => {
        if (!validOrigin(o)) fail([...at, 'cors', 'allowOrigins', j], 'UnsupportedValue', `origin "${o}" must be "*" or <scheme>://<host>[:<port>] with scheme http or https`);
      });
      return;
    }
  }
}

type Built = { readonly kind: 'filter'; readonly filter: HttpFilter } | { readonly kind: 'unresolved'; readonly reason: string; readonly message: string };

/** Builds one checked filter. Only a mirror can fail here: its backendRef may not resolve. */
function buildFilter(f: HTTPRouteFilter, ctx: FilterContext): Built {
  switch (f.type as HTTPRouteFilterType) {
    case 'RequestHeaderModifier':
      return { kind: 'filter', filter: new RequestHeaderModifierFilter(required(f.requestHeaderModifier)) };
    case 'ResponseHeaderModifier':
      return { kind: 'filter', filter: new ResponseHeaderModifierFilter(required(f.responseHeaderModifier)) };
    case 'RequestRedirect': {
      const r = required(f.requestRedirect);
      return {
        kind: 'filter',
        filter: new RequestRedirectFilter({ scheme: r.scheme, hostname: r.hostname, port: r.port, path: pathModifier(r.path, ctx), statusCode: r.statusCode }),
      };
    }
    case 'URLRewrite': {
      const r = required(f.urlRewrite);
      return { kind: 'filter', filter: new UrlRewriteFilter(r.hostname, pathModifier(r.path, ctx)) };
    }
    case 'CORS': {
      const c = required(f.cors);
      return {
        kind: 'filter',
        filter: new CorsFilter({
          allowOrigins: c.allowOrigins,
          allowCredentials: c.allowCredentials === true,
          allowMethods: c.allowMethods,
          allowHeaders: c.allowHeaders,
          exposeHeaders: c.exposeHeaders,
          maxAge: c.maxAge,
        }),
      };
    }
    case 'RequestMirror': {
      const m = required(f.requestMirror);
      const resolved = resolveBackendRef({ ...m.backendRef, weight: 1 }, { kind: 'HTTPRoute', namespace: ctx.route.raw.metadata.namespace, requireGrant: ctx.requireGrant }, ctx.backends);
      if (!resolved.ok) return { kind: 'unresolved', reason: resolved.reason, message: `mirror ${resolved.message}` };
      // "If neither field is specified, 100% of requests will be mirrored."
      const numerator = m.percent ?? m.fraction?.numerator ?? 100;
      const denominator = m.percent !== undefined ? 100 : m.fraction?.denominator ?? 100;
      return { kind: 'filter', filter: new RequestMirrorFilter({ cluster: resolved.cluster, numerator, denominator }) };
    }
    default:
      // Unreachable: checkFilter rejected every other type.
      throw new Error(`filter type ${f.type} has no builder`);
  }
}

function pathModifier(path: { readonly type: string; readonly replaceFullPath?: string | undefined; readonly replacePrefixMatch?: string | undefined } | undefined, ctx: FilterContext): PathModifier | undefined {
  if (path === undefined) return undefined;
  if (path.type === 'ReplaceFullPath') return PathModifier.fullPath(path.replaceFullPath ?? '/');
  return PathModifier.prefixMatch(path.replacePrefixMatch ?? '', ctx.matches[0]?.path.value ?? '/');
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('filter configuration missing after validation');
  return value;
}

/** How /config_dump shows a compiled chain: filter names in order (mirrors with their cluster and share). */
export function describeFilters(chain: FilterChain): unknown[] {
  return chain.map((f) => (f instanceof RequestMirrorFilter
    ? { name: f.name, cluster: f.target.cluster.id, fraction: `${f.target.numerator}/${f.target.denominator}` }
    // VirtualService fault injection and direct responses show their settings.
    : f instanceof FaultInjectionFilter || f instanceof DirectResponseFilter ? f.describe() : f.name));
}
