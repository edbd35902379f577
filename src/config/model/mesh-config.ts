// MeshConfig (Istio's mesh-wide settings, the `mesh` key of the `istio` ConfigMap): the subset a waypoint reads.
// Unknown MeshConfig fields are accepted (it is a large, evolving API) but reported by name.
import { z } from 'zod';

const serviceRef = {
  service: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  timeout: z.string().optional(),
  failOpen: z.boolean().optional(),
};

export const extensionProvider = z.looseObject({
  name: z.string().min(1),
  envoyExtAuthzHttp: z
    .looseObject({
      ...serviceRef,
      pathPrefix: z.string().optional(),
      statusOnError: z.string().optional(),
      includeRequestHeadersInCheck: z.array(z.string()).optional(),
      includeAdditionalHeadersInCheck: z.record(z.string(), z.string()).optional(),
      includeRequestBodyInCheck: z.record(z.string(), z.unknown()).optional(),
      headersToUpstreamOnAllow: z.array(z.string()).optional(),
      headersToDownstreamOnDeny: z.array(z.string()).optional(),
      headersToDownstreamOnAllow: z.array(z.string()).optional(),
      clearRouteCache: z.boolean().optional(),
    })
    .optional(),
  envoyExtAuthzGrpc: z
    .looseObject({
      ...serviceRef,
      statusOnError: z.string().optional(),
      includeRequestBodyInCheck: z.record(z.string(), z.unknown()).optional(),
      clearRouteCache: z.boolean().optional(),
    })
    .optional(),
  opentelemetry: z.looseObject({ service: z.string().min(1), port: z.number().int().min(1).max(65535), http: z.record(z.string(), z.unknown()).optional() }).optional(),
  zipkin: z.looseObject({ service: z.string().min(1), port: z.number().int().min(1).max(65535) }).optional(),
  envoyFileAccessLog: z.looseObject({ path: z.string().min(1), logFormat: z.record(z.string(), z.unknown()).optional() }).optional(),
  prometheus: z.looseObject({}).optional(),
});
export type ExtensionProvider = z.infer<typeof extensionProvider>;

export const meshConfig = z.looseObject({
  rootNamespace: z.string().min(1).default('istio-system'),
  trustDomain: z.string().min(1).default('cluster.local'),
  trustDomainAliases: z.array(z.string()).default([]),
  accessLogFile: z.string().default(''),
  accessLogEncoding: z.enum(['TEXT', 'JSON']).default('TEXT'),
  accessLogFormat: z.string().default(''),
  enableTracing: z.boolean().default(false),
  extensionProviders: z.array(extensionProvider).default([]),
  defaultProviders: z
    .looseObject({ tracing: z.array(z.string()).optional(), metrics: z.array(z.string()).optional(), accessLogging: z.array(z.string()).optional() })
    .default({}),
  pathNormalization: z.looseObject({ normalization: z.enum(['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']).default('BASE') }).default({ normalization: 'BASE' }),
  defaultConfig: z
    .looseObject({ tracing: z.looseObject({ sampling: z.number().min(0).max(100).optional() }).optional() })
    .default({}),
});
export type MeshConfig = z.infer<typeof meshConfig>;

/** Istio's defaults when no mesh config is given. */
export const DEFAULT_MESH_CONFIG: MeshConfig = meshConfig.parse({});
