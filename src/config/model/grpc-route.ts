// GRPCRoute (gateway.networking.k8s.io v1) schema, with the CRD's validation rules for method matches.
// Which filters are applied is decided by compile (config/compile/grpc-routes.ts).
import { z } from 'zod';
import { backendObjectRef, parentRef } from './gateway-api.js';
import { headerModifier } from './http-route.js';

// GRPCMethodMatch CEL rules: Exact service "must be a valid gRPC service name"
// (`^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`), Exact method `^[A-Za-z_][A-Za-z_0-9]*$`.
const SERVICE_NAME = /^\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/;
const METHOD_NAME = /^[A-Za-z_][A-Za-z_0-9]*$/;

export const grpcMethodMatch = z
  .strictObject({
    type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
    service: z.string().max(1024).optional(),
    method: z.string().max(1024).optional(),
  })
  .refine((m) => m.service !== undefined || m.method !== undefined, { message: 'One or both of "service" or "method" must be specified' })
  .refine((m) => m.type !== 'Exact' || m.service === undefined || SERVICE_NAME.test(m.service), {
    message: 'service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)',
    path: ['service'],
  })
  .refine((m) => m.type !== 'Exact' || m.method === undefined || METHOD_NAME.test(m.method), {
    message: 'method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)',
    path: ['method'],
  });
export type GRPCMethodMatch = z.infer<typeof grpcMethodMatch>;

export const grpcHeaderMatch = z.strictObject({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: z.string().min(1).max(256).regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, 'must be a valid HTTP header name (RFC 7230 token)'),
  value: z.string().min(1).max(4096),
});

export const grpcRouteMatch = z.strictObject({
  method: grpcMethodMatch.optional(),
  headers: z.array(grpcHeaderMatch).max(16).default([]),
});
export type GRPCRouteMatch = z.infer<typeof grpcRouteMatch>;

const mirrorBackendRef = z.strictObject({
  group: backendObjectRef.group,
  kind: backendObjectRef.kind,
  name: backendObjectRef.name,
  namespace: backendObjectRef.namespace,
  port: backendObjectRef.port,
});

export const grpcRouteFilter = z.strictObject({
  type: z.enum(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']),
  requestHeaderModifier: headerModifier.optional(),
  responseHeaderModifier: headerModifier.optional(),
  requestMirror: z
    .strictObject({
      backendRef: mirrorBackendRef,
      percent: z.number().int().min(0).max(100).optional(),
      fraction: z.strictObject({ numerator: z.number().int().min(0), denominator: z.number().int().min(1).default(100) }).optional(),
    })
    .optional(),
  extensionRef: z.strictObject({ group: z.string(), kind: z.string(), name: z.string() }).optional(),
});
export type GRPCRouteFilter = z.infer<typeof grpcRouteFilter>;

export const grpcBackendRef = z
  .strictObject({ ...backendObjectRef, filters: z.array(grpcRouteFilter).max(16).default([]) })
  .refine((b) => !(b.kind === 'Service' && (b.group === '' || b.group === 'core') && b.port === undefined), {
    message: 'Must have port for Service reference: add the Service port number',
    path: ['port'],
  });

export const grpcRouteRule = z.strictObject({
  name: z.string().max(253).optional(),
  matches: z.array(grpcRouteMatch).max(64).default([]),
  filters: z.array(grpcRouteFilter).max(16).default([]),
  backendRefs: z.array(grpcBackendRef).max(16).default([]),
  sessionPersistence: z.record(z.string(), z.unknown()).optional(),
});
export type GRPCRouteRule = z.infer<typeof grpcRouteRule>;

export const grpcRouteSpec = z.strictObject({
  parentRefs: z.array(parentRef).max(32).default([]),
  hostnames: z.array(z.string().max(253)).max(16).default([]),
  rules: z.array(grpcRouteRule).max(16).default([{ matches: [], filters: [], backendRefs: [] }]),
});
export type GRPCRouteSpec = z.infer<typeof grpcRouteSpec>;
