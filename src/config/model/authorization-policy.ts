// AuthorizationPolicy (security.istio.io/v1 and v1beta1; the two versions have the same schema).
// Shapes only: Istio's semantic checks (the webhook's) are in src/security/authz/validate-policy.ts.
import { z } from 'zod';

/** Lists are kept `undefined` when absent: Istio distinguishes "not set" from "set" in several checks. */
const values = z.array(z.string()).optional();

export const source = z.strictObject({
  principals: values,
  notPrincipals: values,
  requestPrincipals: values,
  notRequestPrincipals: values,
  namespaces: values,
  notNamespaces: values,
  serviceAccounts: z.array(z.string()).max(16).optional(),
  notServiceAccounts: z.array(z.string()).max(16).optional(),
  ipBlocks: values,
  notIpBlocks: values,
  remoteIpBlocks: values,
  notRemoteIpBlocks: values,
  trustDomains: values,
  notTrustDomains: values,
});
export type Source = z.infer<typeof source>;
export type SourceField = keyof Source;

export const operation = z.strictObject({
  hosts: values,
  notHosts: values,
  ports: values,
  notPorts: values,
  methods: values,
  notMethods: values,
  paths: values,
  notPaths: values,
});
export type Operation = z.infer<typeof operation>;
export type OperationField = keyof Operation;

export const condition = z.strictObject({
  key: z.string(),
  values: values,
  notValues: values,
});
export type Condition = z.infer<typeof condition>;

export const rule = z.strictObject({
  from: z.array(z.strictObject({ source: source.nullable().optional() }).nullable()).optional(),
  to: z.array(z.strictObject({ operation: operation.nullable().optional() }).nullable()).optional(),
  when: z.array(condition).optional(),
});
export type Rule = z.infer<typeof rule>;

export const policyTargetRef = z.strictObject({
  group: z.string().max(253).default(''),
  kind: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
  namespace: z.string().max(63).optional(),
});
export type PolicyTargetRef = z.infer<typeof policyTargetRef>;

export const authorizationAction = z.enum(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']);
export type AuthorizationAction = z.infer<typeof authorizationAction>;

export const authorizationPolicySpec = z.strictObject({
  selector: z.strictObject({ matchLabels: z.record(z.string(), z.string()).default({}) }).optional(),
  /** Deprecated single form, still accepted by Istio. */
  targetRef: policyTargetRef.optional(),
  targetRefs: z.array(policyTargetRef).max(16).optional(),
  action: authorizationAction.default('ALLOW'),
  provider: z.strictObject({ name: z.string() }).optional(),
  /** `null` entries are kept so the webhook's "`rule` must not be nil" check can name them. */
  rules: z.array(rule.nullable()).max(512).optional(),
});
export type AuthorizationPolicySpec = z.infer<typeof authorizationPolicySpec>;

/** `istio.io/dry-run: "true"`: evaluated and reported, never enforced. */
export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';
