// Kubernetes core kinds the waypoint reads: Service and EndpointSlice (discovery.k8s.io/v1).
// Every field of the real API is listed so real manifests validate; only some are used.
import { isIP } from 'node:net';
import { z } from 'zod';

const intOrString = z.union([z.number().int().min(1).max(65535), z.string().min(1).max(15)]);

export const servicePort = z.strictObject({
  name: z.string().max(63).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
  appProtocol: z.string().max(253).optional(),
  port: z.number().int().min(1, 'must be 1-65535').max(65535, 'must be 1-65535'),
  targetPort: intOrString.optional(),
  nodePort: z.number().int().optional(),
});
export type ServicePort = z.infer<typeof servicePort>;

export const serviceSpec = z.strictObject({
  type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).default('ClusterIP'),
  clusterIP: z
    .string()
    .refine((v) => v === '' || v === 'None' || isIP(v) !== 0, 'must be an IPv4 or IPv6 address, "None" (headless) or empty')
    .optional(),
  clusterIPs: z.array(z.string()).optional(),
  ports: z.array(servicePort).default([]),
  selector: z.record(z.string(), z.string()).optional(),
  externalName: z.string().optional(),
  externalIPs: z.array(z.string()).optional(),
  externalTrafficPolicy: z.string().optional(),
  internalTrafficPolicy: z.string().optional(),
  ipFamilies: z.array(z.string()).optional(),
  ipFamilyPolicy: z.string().optional(),
  loadBalancerIP: z.string().optional(),
  loadBalancerSourceRanges: z.array(z.string()).optional(),
  loadBalancerClass: z.string().optional(),
  allocateLoadBalancerNodePorts: z.boolean().optional(),
  healthCheckNodePort: z.number().int().optional(),
  publishNotReadyAddresses: z.boolean().optional(),
  sessionAffinity: z.string().optional(),
  sessionAffinityConfig: z.record(z.string(), z.unknown()).optional(),
  trafficDistribution: z.string().optional(),
});
export type ServiceSpec = z.infer<typeof serviceSpec>;

const endpointConditions = z.strictObject({
  ready: z.boolean().optional(),
  serving: z.boolean().optional(),
  terminating: z.boolean().optional(),
});

export const endpoint = z.strictObject({
  addresses: z.array(z.string()).min(1, 'an endpoint needs at least one address'),
  conditions: endpointConditions.default({}),
  hostname: z.string().optional(),
  nodeName: z.string().optional(),
  zone: z.string().optional(),
  hints: z.record(z.string(), z.unknown()).optional(),
  targetRef: z
    .looseObject({ kind: z.string().optional(), name: z.string().optional(), namespace: z.string().optional() })
    .optional(),
  deprecatedTopology: z.record(z.string(), z.string()).optional(),
});
export type Endpoint = z.infer<typeof endpoint>;

export const endpointPort = z.strictObject({
  name: z.string().max(63).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
  port: z.number().int().min(1).max(65535).optional(),
  appProtocol: z.string().optional(),
});
export type EndpointPort = z.infer<typeof endpointPort>;

/** EndpointSlice keeps its fields at the top level (no `spec`). */
export const endpointSliceBody = z.strictObject({
  addressType: z.enum(['IPv4', 'IPv6', 'FQDN']),
  endpoints: z.array(endpoint).default([]),
  ports: z.array(endpointPort).default([]),
});
export type EndpointSliceBody = z.infer<typeof endpointSliceBody>;
