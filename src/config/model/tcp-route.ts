// TCPRoute (gateway.networking.k8s.io v1alpha2, v1) schema: v1alpha2 allows up to 16 rules, v1 exactly one.
// A TCPRoute rule has no matches: every connection on the parent Service port takes it.
import { z } from 'zod';
import { parentRef } from './gateway-api.js';
import { l4RouteRule, uniqueRuleNames } from './tls-route.js';

function tcpRouteSpecSchema(maxRules: number) {
  return z.strictObject({
    parentRefs: z.array(parentRef).max(32).default([]),
    rules: z
      .array(l4RouteRule)
      .min(1, 'a TCPRoute needs a rule')
      .max(maxRules, maxRules === 1 ? 'TCPRoute v1 has exactly one rule' : `at most ${maxRules} rules`)
      .refine(uniqueRuleNames, { message: 'Rule name must be unique within the route' }),
  });
}

const TCP_SPECS = {
  'gateway.networking.k8s.io/v1alpha2': tcpRouteSpecSchema(16),
  'gateway.networking.k8s.io/v1': tcpRouteSpecSchema(1),
} as const;

export type TCPRouteApiVersion = keyof typeof TCP_SPECS;
export const TCP_ROUTE_API_VERSIONS = Object.keys(TCP_SPECS) as ReadonlyArray<TCPRouteApiVersion>;
export type TCPRouteSpec = z.infer<(typeof TCP_SPECS)['gateway.networking.k8s.io/v1alpha2']>;

/** The schema for one apiVersion (already checked against TCP_ROUTE_API_VERSIONS by validation). */
export function tcpRouteSpec(apiVersion: string): z.ZodType<TCPRouteSpec> {
  return TCP_SPECS[apiVersion as TCPRouteApiVersion] ?? TCP_SPECS['gateway.networking.k8s.io/v1'];
}
