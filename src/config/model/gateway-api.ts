// Shared Gateway API types (parentRefs, backendRefs, durations) as zod schemas; the inferred types are the model.
import { z } from 'zod';

/** RFC 1123 label / Kubernetes object name, as the Gateway API CRDs validate them. */
export const objectName = z
  .string()
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 name (a-z, 0-9, "-", ".")');

export const sectionName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label');

export const portNumber = z.number().int('must be an integer').min(1, 'must be 1-65535').max(65535, 'must be 1-65535');

/** Gateway API `ParentReference`. `group` defaults to gateway.networking.k8s.io, so Services need `group: ""`. */
export const parentRef = z.strictObject({
  group: z.string().max(253).default('gateway.networking.k8s.io'),
  kind: z.string().min(1).max(63).default('Gateway'),
  namespace: z.string().min(1).max(63).optional(),
  name: objectName,
  sectionName: sectionName.optional(),
  port: portNumber.optional(),
});
export type ParentRef = z.infer<typeof parentRef>;

/** Gateway API `BackendRef` without filters (HTTPBackendRef adds them). */
export const backendObjectRef = {
  group: z.string().max(253).default(''),
  kind: z.string().min(1).max(63).default('Service'),
  name: objectName,
  namespace: z.string().min(1).max(63).optional(),
  port: portNumber.optional(),
  weight: z.number().int('must be an integer').min(0, 'must be 0-1000000').max(1_000_000, 'must be 0-1000000').default(1),
};

/** GEP-2257 duration: `1h`, `10s`, `500ms`, combinations like `1m30s`; `0s` allowed. */
export const duration = z
  .string()
  .regex(/^([0-9]{1,5}(h|m|s|ms)){1,4}$/, 'must be a Gateway API duration such as "10s", "500ms" or "1m30s"');

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds of a GEP-2257 duration already validated by `duration`. */
export function durationMs(value: string): number {
  let total = 0;
  for (const m of value.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 0);
  return total;
}
