// ReferenceGrant (gateway.networking.k8s.io v1beta1): lets routes in one namespace reference objects in another.
import { z } from 'zod';

export const referenceGrantSpec = z.strictObject({
  from: z
    .array(z.strictObject({ group: z.string().max(253), kind: z.string().min(1).max(63), namespace: z.string().min(1).max(63) }))
    .min(1)
    .max(16),
  to: z
    .array(z.strictObject({ group: z.string().max(253), kind: z.string().min(1).max(63), name: z.string().min(1).max(253).optional() }))
    .min(1)
    .max(16),
});
export type ReferenceGrantSpec = z.infer<typeof referenceGrantSpec>;
