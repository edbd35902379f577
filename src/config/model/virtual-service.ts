// VirtualService (networking.istio.io v1, v1beta1, v1alpha3): the schema, strict so misspellings are caught.
// Which fields a waypoint applies is decided by compile (compile/virtual-services*.ts); Istio's admission
// checks beyond the schema (oneofs, regexes, ranges) are in virtual-service-check.ts.
import { z } from 'zod';

/** Istio durations as written in YAML: `10s`, `1.5s`, `500ms`, `1m30s` (protobuf Duration or Go style). */
export const vsDuration = z.string().regex(/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/, 'a duration such as "10s", "1.5s" or "500ms"');

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000_001 };

/** Milliseconds of a duration that passed `vsDuration` (rounded up so `1us` is not 0 = disabled). */
export function vsDurationMs(value: string): number {
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)) total += Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 0);
  return Math.ceil(total);
}

/** StringMatch: a oneof of exact, prefix, regex (RE2). `{}` is allowed and means "present" for headers and queries. */
export const stringMatch = z.strictObject({
  exact: z.string().optional(),
  prefix: z.string().optional(),
  regex: z.string().optional(),
});
export type StringMatch = z.infer<typeof stringMatch>;

const percent = z.strictObject({ value: z.number().min(0, 'must be 0-100').max(100, 'must be 0-100') });

export const httpMatchRequest = z.strictObject({
  name: z.string().optional(),
  uri: stringMatch.optional(),
  scheme: stringMatch.optional(),
  method: stringMatch.optional(),
  authority: stringMatch.optional(),
  headers: z.record(z.string(), stringMatch).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  sourceLabels: z.record(z.string(), z.string()).optional(),
  gateways: z.array(z.string()).optional(),
  queryParams: z.record(z.string(), stringMatch).optional(),
  ignoreUriCase: z.boolean().optional(),
  withoutHeaders: z.record(z.string(), stringMatch).optional(),
  sourceNamespace: z.string().optional(),
  statPrefix: z.string().optional(),
});
export type HTTPMatchRequest = z.infer<typeof httpMatchRequest>;

export const destination = z.strictObject({
  host: z.string().min(1, 'must not be empty'),
  subset: z.string().optional(),
  port: z.strictObject({ number: z.number().int().min(1).max(65535) }).optional(),
});
export type Destination = z.infer<typeof destination>;

const headerOperations = z.strictObject({
  set: z.record(z.string(), z.string()).optional(),
  add: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional(),
});
export type HeaderOperations = z.infer<typeof headerOperations>;

export const vsHeaders = z.strictObject({ request: headerOperations.optional(), response: headerOperations.optional() });
export type VsHeaders = z.infer<typeof vsHeaders>;

export const httpRouteDestination = z.strictObject({
  destination,
  weight: z.number().int().min(0, 'must not be negative').optional(),
  headers: vsHeaders.optional(),
});

export const httpRedirect = z.strictObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  derivePort: z.enum(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']).optional(),
  scheme: z.string().optional(),
  redirectCode: z.number().int().optional(),
});
export type HTTPRedirect = z.infer<typeof httpRedirect>;

export const httpDirectResponse = z.strictObject({
  status: z.number().int(),
  body: z.strictObject({ string: z.string().optional(), bytes: z.string().optional() }).optional(),
});
export type HTTPDirectResponse = z.infer<typeof httpDirectResponse>;

export const httpRewrite = z.strictObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  uriRegexRewrite: z.strictObject({ match: z.string(), rewrite: z.string() }).optional(),
});
export type HTTPRewrite = z.infer<typeof httpRewrite>;

export const httpRetry = z.strictObject({
  attempts: z.number().int().min(0, 'must not be negative').optional(),
  perTryTimeout: vsDuration.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: z.boolean().optional(),
  retryIgnorePreviousHosts: z.boolean().optional(),
  backoff: vsDuration.optional(),
});
export type HTTPRetry = z.infer<typeof httpRetry>;

export const httpFaultInjection = z.strictObject({
  delay: z.strictObject({
    fixedDelay: vsDuration.optional(),
    exponentialDelay: vsDuration.optional(),
    percentage: percent.optional(),
    /** Deprecated integer percentage. */
    percent: z.number().int().min(0, 'must be 0-100').max(100, 'must be 0-100').optional(),
  }).optional(),
  abort: z.strictObject({
    httpStatus: z.number().int().optional(),
    grpcStatus: z.string().optional(),
    http2Error: z.string().optional(),
    percentage: percent.optional(),
  }).optional(),
});
export type HTTPFaultInjection = z.infer<typeof httpFaultInjection>;

export const corsPolicy = z.strictObject({
  allowOrigins: z.array(stringMatch).optional(),
  /** Deprecated: exact origins. */
  allowOrigin: z.array(z.string()).optional(),
  allowMethods: z.array(z.string()).optional(),
  allowHeaders: z.array(z.string()).optional(),
  exposeHeaders: z.array(z.string()).optional(),
  maxAge: vsDuration.optional(),
  allowCredentials: z.boolean().optional(),
  unmatchedPreflights: z.enum(['UNSPECIFIED', 'FORWARD', 'IGNORE']).optional(),
});
export type CorsPolicy = z.infer<typeof corsPolicy>;

export const httpMirrorPolicy = z.strictObject({ destination, percentage: percent.optional() });

export const vsHttpRoute = z.strictObject({
  name: z.string().optional(),
  match: z.array(httpMatchRequest).optional(),
  route: z.array(httpRouteDestination).optional(),
  redirect: httpRedirect.optional(),
  directResponse: httpDirectResponse.optional(),
  delegate: z.strictObject({ name: z.string(), namespace: z.string().optional() }).optional(),
  rewrite: httpRewrite.optional(),
  timeout: vsDuration.optional(),
  retries: httpRetry.optional(),
  fault: httpFaultInjection.optional(),
  mirror: destination.optional(),
  mirrors: z.array(httpMirrorPolicy).optional(),
  /** Deprecated integer mirror percentage. */
  mirrorPercent: z.number().int().min(0, 'must be 0-100').max(100, 'must be 0-100').optional(),
  mirrorPercentage: percent.optional(),
  corsPolicy: corsPolicy.optional(),
  headers: vsHeaders.optional(),
});
export type VsHttpRoute = z.infer<typeof vsHttpRoute>;

/** tcp and tls routes are parsed loosely: a waypoint reports them as not applied. */
const l4Route = z.record(z.string(), z.unknown());

export const virtualServiceSpec = z.strictObject({
  hosts: z.array(z.string().min(1, 'must not be empty')).optional(),
  gateways: z.array(z.string()).optional(),
  http: z.array(vsHttpRoute).optional(),
  tls: z.array(l4Route).optional(),
  tcp: z.array(l4Route).optional(),
  exportTo: z.array(z.string()).optional(),
});
export type VirtualServiceSpec = z.infer<typeof virtualServiceSpec>;
