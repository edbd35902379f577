// Pod (v1), read only for ambient enrollment: its labels (`istio.io/dataplane-mode`) and the service
// account that names its SPIFFE identity. The rest of the Pod spec is accepted as is and not checked.
import { z } from 'zod';

export const podSpec = z.looseObject({
  serviceAccountName: z.string().min(1).max(253).optional(),
});
export type PodSpec = z.infer<typeof podSpec>;
