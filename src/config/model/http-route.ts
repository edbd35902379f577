// HTTPRoute (gateway.networking.k8s.io v1, v1beta1) schema. Filters, timeouts and retries are parsed
// here so that misspellings are caught; which of them are applied is decided by compile.
import { z } from 'zod';
import { backendObjectRef, duration, parentRef } from './gateway-api.js';

export const pathMatch = z.strictObject({
  type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'),
  value: z.string().max(1024).default('/'),
});
export type PathMatch = z.infer<typeof pathMatch>;

const headerName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, 'must be a valid HTTP header name (RFC 7230 token)');

export const headerMatch = z.strictObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: headerName,
  value: z.string().max(4096),
});
export type HeaderMatch = z.infer<typeof headerMatch>;

export const queryParamMatch = z.strictObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: z.string().min(1).max(256),
  value: z.string().max(1024),
});
export type QueryParamMatch = z.infer<typeof queryParamMatch>;

export const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

export const httpRouteMatch = z.strictObject({
  path: pathMatch.default({ type: 'PathPrefix', value: '/' }),
  headers: z.array(headerMatch).max(16).default([]),
  queryParams: z.array(queryParamMatch).max(16).default([]),
  method: httpMethod.optional(),
});
export type HTTPRouteMatch = z.infer<typeof httpRouteMatch>;

const headerValue = z.strictObject({ name: headerName, value: z.string().max(4096) });
export const headerModifier = z.strictObject({
  set: z.array(headerValue).max(16).default([]),
  add: z.array(headerValue).max(16).default([]),
  remove: z.array(headerName).max(16).default([]),
});
export type HeaderModifier = z.infer<typeof headerModifier>;

const pathModifier = z.strictObject({
  type: z.enum(['ReplaceFullPath', 'ReplacePrefixMatch']),
  replaceFullPath: z.string().max(1024).optional(),
  replacePrefixMatch: z.string().max(1024).optional(),
});

const mirrorBackendRef = z.strictObject({
  group: backendObjectRef.group,
  kind: backendObjectRef.kind,
  name: backendObjectRef.name,
  namespace: backendObjectRef.namespace,
  port: backendObjectRef.port,
});

/** Filter types of the Gateway API (standard and experimental channels). */
export const HTTP_ROUTE_FILTER_TYPES = [
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestMirror',
  'RequestRedirect',
  'URLRewrite',
  'CORS',
  'ExternalAuth',
  'ExtensionRef',
] as const;
export type HTTPRouteFilterType = (typeof HTTP_ROUTE_FILTER_TYPES)[number];

export const httpRouteFilter = z.strictObject({
  // Any string: "Unknown values here must result in the implementation setting the Accepted Condition for
  // the Route to `status: False`, with a Reason of `UnsupportedValue`", so compile reports it on the rule.
  type: z.string().min(1),
  requestHeaderModifier: headerModifier.optional(),
  responseHeaderModifier: headerModifier.optional(),
  requestMirror: z
    .strictObject({
      backendRef: mirrorBackendRef,
      percent: z.number().int().min(0).max(100).optional(),
      fraction: z
        .strictObject({ numerator: z.number().int().min(0), denominator: z.number().int().min(1).default(100) })
        .optional(),
    })
    .optional(),
  requestRedirect: z
    .strictObject({
      scheme: z.enum(['http', 'https']).optional(),
      hostname: z.string().max(253).optional(),
      path: pathModifier.optional(),
      port: z.number().int().min(1).max(65535).optional(),
      statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).default(302),
    })
    .optional(),
  urlRewrite: z.strictObject({ hostname: z.string().max(253).optional(), path: pathModifier.optional() }).optional(),
  cors: z
    .strictObject({
      allowOrigins: z.array(z.string()).max(64).default([]),
      allowCredentials: z.boolean().optional(),
      allowMethods: z.array(z.string()).max(9).default([]),
      allowHeaders: z.array(z.string()).max(64).default([]),
      exposeHeaders: z.array(z.string()).max(64).default([]),
      maxAge: z.number().int().min(1).default(5),
    })
    .optional(),
  externalAuth: z.record(z.string(), z.unknown()).optional(),
  extensionRef: z.strictObject({ group: z.string(), kind: z.string(), name: z.string() }).optional(),
});
export type HTTPRouteFilter = z.infer<typeof httpRouteFilter>;

export const httpBackendRef = z
  .strictObject({
    ...backendObjectRef,
    filters: z.array(httpRouteFilter).max(16).default([]),
  })
  // The CRD's CEL rule: "Must have port for Service reference".
  .refine((b) => !(b.kind === 'Service' && (b.group === '' || b.group === 'core') && b.port === undefined), {
    message: 'Must have port for Service reference: add the Service port number',
    path: ['port'],
  });
export type HTTPBackendRef = z.infer<typeof httpBackendRef>;

export const httpRouteRule = z.strictObject({
  name: z.string().max(253).optional(),
  matches: z.array(httpRouteMatch).max(64).default([{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }]),
  filters: z.array(httpRouteFilter).max(16).default([]),
  backendRefs: z.array(httpBackendRef).max(16).default([]),
  timeouts: z.strictObject({ request: duration.optional(), backendRequest: duration.optional() }).optional(),
  retry: z
    .strictObject({
      codes: z.array(z.number().int().min(400).max(599)).optional(),
      attempts: z.number().int().min(0).optional(),
      backoff: duration.optional(),
    })
    .optional(),
  sessionPersistence: z.record(z.string(), z.unknown()).optional(),
});
export type HTTPRouteRule = z.infer<typeof httpRouteRule>;

export const httpRouteSpec = z.strictObject({
  parentRefs: z.array(parentRef).max(32).default([]),
  hostnames: z.array(z.string().max(253)).max(16).default([]),
  rules: z.array(httpRouteRule).max(16).default([{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }], filters: [], backendRefs: [] }]),
});
export type HTTPRouteSpec = z.infer<typeof httpRouteSpec>;
