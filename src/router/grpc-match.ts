// Compiles a GRPCRouteMatch into the HTTP match it is on the wire: gRPC calls are `POST /<service>/<method>`,
// so service and method become a path condition (as Istio converts them) and headers stay header matches.
import type { GRPCRouteMatch } from '../config/model/grpc-route.js';
import type { HTTPRouteMatch } from '../config/model/http-route.js';
import type { FieldPath } from '../config/resource.js';
import { type CompiledHttpMatch, compileHttpRouteMatch } from './match/http-match.js';
import { compileFullMatchRegex } from './match/regex.js';

export type GrpcMatchCompileResult =
  | { readonly ok: true; readonly match: CompiledHttpMatch; readonly http: HTTPRouteMatch }
  | { readonly ok: false; readonly path: FieldPath; readonly message: string };

/** Any single path segment: a service or method name cannot contain `/`. */
const SEGMENT = '[^/]+';

/**
 * Istio's conversion: service+method Exact → path Exact `/<svc>/<method>`; service only → prefix
 * `/<svc>/`; method only → regex `/[^/]+/<method>`; RegularExpression → regex `/<svc>/<method>` with the
 * missing half as any segment. "If no matches are specified, the implementation MUST match every gRPC request."
 */
export function grpcPathMatch(m: GRPCRouteMatch): HTTPRouteMatch['path'] | { readonly error: FieldPath; readonly message: string } {
  const mm = m.method;
  if (mm === undefined) return { type: 'PathPrefix', value: '/' };
  const { service, method } = mm;
  if (mm.type === 'Exact') {
    if (service !== undefined && method !== undefined) return { type: 'Exact', value: `/${service}/${method}` };
    if (service !== undefined) return { type: 'PathPrefix', value: `/${service}/` };
    return { type: 'RegularExpression', value: `/${SEGMENT}/${method ?? ''}` };
  }
  // Each half is checked on its own first, so an error names its field and an unbalanced pattern
  // such as `a)|(b` cannot escape the group it is placed in.
  for (const [field, value] of [['service', service], ['method', method]] as const) {
    if (value === undefined) continue;
    const r = compileFullMatchRegex(value);
    if (!r.ok) return { error: ['method', field], message: r.message };
  }
  const svc = service === undefined ? SEGMENT : `(?:${service})`;
  const mth = method === undefined ? SEGMENT : `(?:${method})`;
  return { type: 'RegularExpression', value: `/${svc}/${mth}` };
}

export function compileGrpcRouteMatch(m: GRPCRouteMatch): GrpcMatchCompileResult {
  const path = grpcPathMatch(m);
  if ('error' in path) return { ok: false, path: path.error, message: path.message };
  const http: HTTPRouteMatch = { path, headers: m.headers, queryParams: [] };
  const compiled = compileHttpRouteMatch(http);
  if (!compiled.ok) return { ok: false, path: compiled.path[0] === 'path' ? ['method'] : compiled.path, message: compiled.message };
  return { ok: true, match: compiled.match, http };
}
