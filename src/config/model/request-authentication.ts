// RequestAuthentication (security.istio.io v1 and v1beta1, identical specs): which JWTs a workload accepts.
// Field rules follow Istio's CRD (CEL) and webhook validation (pilot/pkg/config/validation).
import { z } from 'zod';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { RawResource } from '../resource.js';

/** Istio's `PolicyTargetReference`; `group` is "" (or "core") for Services. */
export const policyTargetRef = z
  .strictObject({
    group: z.string().max(253).default(''),
    kind: z.string().min(1).max(63),
    name: z.string().min(1).max(253),
    namespace: z.string().max(63).optional(),
  })
  // The CRD's CEL rule lists the kinds a RequestAuthentication may target.
  .refine((t) => SUPPORTED_TARGETS.has(`${t.group}/${t.kind}`), {
    message: 'Support kinds are core/Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway and gateway.networking.k8s.io/GatewayClass (set "group" to match)',
    path: ['kind'],
  });
export type PolicyTargetRef = z.infer<typeof policyTargetRef>;

const SUPPORTED_TARGETS: ReadonlySet<string> = new Set([
  '/Service',
  'core/Service',
  'networking.istio.io/ServiceEntry',
  'gateway.networking.k8s.io/Gateway',
  'gateway.networking.k8s.io/GatewayClass',
]);

/** Istio's ValidateStrictHTTPHeaderName. */
const strictHeaderName = z.string().min(1, 'must be a non-empty header name').max(256).regex(/^[-_A-Za-z0-9]+$/, 'must match ^[-_A-Za-z0-9]+$');
/** Any RFC 7230 token (header locations may use any legal header name). */
const headerName = z.string().min(1, 'must be a non-empty header name').max(256).regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, 'must be a valid HTTP header name (RFC 7230 token)');
const nonEmpty = (what: string): z.ZodString => z.string().min(1, `${what} must be a non-empty string`);

/** google.protobuf.Duration as written in YAML: `5s`, `1.5s`, `500ms`, `1m30s`. */
export const protoDuration = z
  .string()
  .regex(/^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/, 'must be a duration such as "5s", "1.5s" or "500ms"')
  .refine((v) => durationToMs(v) > 0, 'must be greater than zero');

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, ns: 0.000001 };

/** Milliseconds of a duration already validated by `protoDuration`. */
export function durationToMs(value: string): number {
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/g)) total += Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 0);
  return total;
}

export const jwtRule = z
  .strictObject({
    issuer: nonEmpty('issuer'),
    audiences: z.array(nonEmpty('audience')).default([]),
    jwksUri: z
      .string()
      .max(2048)
      .refine(isHttpUrl, 'must be an http:// or https:// URL')
      .optional(),
    jwks: z.string().optional(),
    fromHeaders: z.array(z.strictObject({ name: headerName, prefix: z.string().default('') })).default([]),
    fromParams: z.array(nonEmpty('fromParams entry')).default([]),
    fromCookies: z.array(nonEmpty('fromCookies entry')).default([]),
    outputPayloadToHeader: headerName.optional(),
    forwardOriginalToken: z.boolean().default(false),
    outputClaimToHeaders: z.array(z.strictObject({ header: strictHeaderName, claim: nonEmpty('claim') })).default([]),
    timeout: protoDuration.optional(),
    spaceDelimitedClaims: z.array(nonEmpty('claim')).default([]),
  })
  .superRefine((rule, ctx) => {
    // Istio's webhook parses inline JWKS (jwk.Parse): a document that is not a JWKS is rejected.
    if (rule.jwks === undefined) return;
    const problem = inlineJwksProblem(rule.jwks);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['jwks'], message: problem });
  });
export type JwtRule = z.infer<typeof jwtRule>;

export const requestAuthenticationSpec = z
  .strictObject({
    selector: z.strictObject({ matchLabels: z.record(z.string(), z.string()).default({}) }).optional(),
    targetRef: policyTargetRef.optional(),
    targetRefs: z.array(policyTargetRef).max(16).default([]),
    jwtRules: z.array(jwtRule).max(4096).default([]),
  })
  .superRefine((spec, ctx) => {
    if (spec.selector !== undefined && (spec.targetRefs.length > 0 || spec.targetRef !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['selector'], message: 'only one of targetRefs or selector can be set' });
    }
    if (spec.targetRef !== undefined && spec.targetRefs.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['targetRef'], message: 'only one of targetRef or targetRefs can be set (targetRef is deprecated: use targetRefs)' });
    }
  });
export type RequestAuthenticationSpec = z.infer<typeof requestAuthenticationSpec>;

/** The policy's targets, the deprecated single `targetRef` folded in. */
export function targetsOf(spec: RequestAuthenticationSpec): ReadonlyArray<PolicyTargetRef> {
  return spec.targetRef === undefined ? spec.targetRefs : [spec.targetRef];
}

/**
 * Checks that need the resource's metadata, after the schema passed: cross-namespace targetRefs
 * ("cross namespace referencing is not currently supported"). Returns false when the resource must be rejected.
 */
export function checkRequestAuthentication(res: RawResource, spec: RequestAuthenticationSpec, out: Diagnostic[]): boolean {
  let ok = true;
  const field = spec.targetRef === undefined ? 'targetRefs' : 'targetRef';
  targetsOf(spec).forEach((t, i) => {
    if (t.namespace === undefined || t.namespace === '' || t.namespace === res.metadata.namespace) return;
    const path = field === 'targetRef' ? ['spec', field, 'namespace'] : ['spec', field, i, 'namespace'];
    out.push(resourceDiagnostic(res, 'error', 'invalid-field', path,
      `cross namespace referencing is not currently supported: the target must be in the policy's namespace "${res.metadata.namespace}"`));
    ok = false;
  });
  spec.jwtRules.forEach((rule, i) => {
    if (rule.jwks !== undefined && rule.jwksUri !== undefined) {
      out.push(resourceDiagnostic(res, 'warning', 'ignored-field', ['spec', 'jwtRules', i, 'jwksUri'],
        'both jwks and jwksUri are set: the inline jwks is used and jwksUri is ignored (as Istio does)'));
    }
  });
  return ok;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Why an inline JWKS string is not a JWKS document, or undefined when it is one. */
function inlineJwksProblem(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return `jwks is not valid JSON (${err instanceof Error ? err.message : String(err)}): give the JWKS document, e.g. {"keys":[...]}`;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'jwks must be a JSON object with a "keys" array';
  const keys = (doc as Record<string, unknown>)['keys'];
  if (!Array.isArray(keys)) return 'jwks must have a "keys" array';
  return undefined;
}
