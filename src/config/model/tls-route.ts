// TLSRoute (gateway.networking.k8s.io v1alpha2, v1alpha3, v1) schema. The versions differ in bounds only:
// v1alpha2 allows no hostnames and up to 16 rules, v1alpha3 requires 1-16 hostnames, v1 requires
// hostnames and exactly one rule. A TLSRoute rule has no matches: the SNI is matched against `hostnames`.
import { z } from 'zod';
import { backendObjectRef, parentRef, sectionName } from './gateway-api.js';

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IPV4 = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/;

/**
 * Gateway API `Hostname` as the TLSRoute CRD validates it: RFC 1123, lower case, optionally prefixed by a
 * lone `*.` label; "IPs are not allowed in SNI hostnames per RFC 6066".
 */
export const sniHostname = z
  .string()
  .min(1)
  .max(253)
  .refine((h) => !IPV4.test(h) && !h.includes(':'), { message: 'Hostnames cannot contain an IP' })
  .refine((h) => (h.startsWith('*.') ? DNS_NAME.test(h.slice(2)) : DNS_NAME.test(h)), {
    message: 'must be a lowercase RFC 1123 hostname, optionally prefixed by a wildcard label "*." (which must be the first label)',
  });

/** BackendRef of TLSRoute/TCPRoute rules: no filters; Services need a port (the CRD's CEL rule). */
export const l4BackendRef = z
  .strictObject({ ...backendObjectRef })
  .refine((b) => !(b.kind === 'Service' && (b.group === '' || b.group === 'core') && b.port === undefined), {
    message: 'Must have port for Service reference: add the Service port number',
    path: ['port'],
  });
export type L4BackendRef = z.infer<typeof l4BackendRef>;

export const l4RouteRule = z.strictObject({
  name: sectionName.optional(),
  backendRefs: z.array(l4BackendRef).min(1, 'a rule needs at least one backendRef').max(16),
});
export type L4RouteRule = z.infer<typeof l4RouteRule>;

/** The CRD's CEL rule: "Rule name must be unique within the route". */
export const uniqueRuleNames = (rules: ReadonlyArray<L4RouteRule>): boolean => {
  const names = rules.flatMap((r) => (r.name === undefined ? [] : [r.name]));
  return new Set(names).size === names.length;
};

function tlsRouteSpecSchema(hostnames: z.ZodType<string[]>, maxRules: number) {
  return z.strictObject({
    parentRefs: z.array(parentRef).max(32).default([]),
    hostnames,
    rules: z
      .array(l4RouteRule)
      .min(1, 'a TLSRoute needs a rule')
      .max(maxRules, maxRules === 1 ? 'TLSRoute v1 has exactly one rule' : `at most ${maxRules} rules`)
      .refine(uniqueRuleNames, { message: 'Rule name must be unique within the route' }),
  });
}

const TLS_SPECS = {
  'gateway.networking.k8s.io/v1alpha2': tlsRouteSpecSchema(z.array(sniHostname).max(16).default([]), 16),
  'gateway.networking.k8s.io/v1alpha3': tlsRouteSpecSchema(z.array(sniHostname).min(1, 'at least one hostname is required').max(16), 16),
  'gateway.networking.k8s.io/v1': tlsRouteSpecSchema(z.array(sniHostname).min(1, 'at least one hostname is required').max(1024), 1),
} as const;

export type TLSRouteApiVersion = keyof typeof TLS_SPECS;
export const TLS_ROUTE_API_VERSIONS = Object.keys(TLS_SPECS) as ReadonlyArray<TLSRouteApiVersion>;
export type TLSRouteSpec = z.infer<(typeof TLS_SPECS)['gateway.networking.k8s.io/v1alpha2']>;

/** The schema for one apiVersion (already checked against TLS_ROUTE_API_VERSIONS by validation). */
export function tlsRouteSpec(apiVersion: string): z.ZodType<TLSRouteSpec> {
  return TLS_SPECS[apiVersion as TLSRouteApiVersion] ?? TLS_SPECS['gateway.networking.k8s.io/v1'];
}
