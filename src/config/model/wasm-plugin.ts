// WasmPlugin (extensions.istio.io/v1alpha1): a proxy-wasm module inserted into the waypoint's HTTP filter chain.
// Field rules follow istio/api extensions/v1alpha1/wasm.proto, its CRD (CEL) rules and Istio's webhook validation.
import { z } from 'zod';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { RawResource } from '../resource.js';
import { policyTargetRef, type PolicyTargetRef } from './request-authentication.js';

/** The url schemes Istio's CRD accepts ("url must have schema one of [http, https, file, oci]"); none means oci. */
const URL_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'file:', 'oci:']);

/** Why `url` is not a module location Istio accepts, or undefined when it is. */
export function wasmUrlProblem(url: string): string | undefined {
  if (url === '' || /\s/.test(url)) return 'must be a non-empty URL without spaces';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme === null) {
    // Istio: a url without a scheme is an OCI reference (`registry/repository:tag`).
    return /^[A-Za-z0-9._:@/-]+$/.test(url) ? undefined : `"${url}" is neither a URL with a scheme nor an OCI image reference (registry/repository:tag)`;
  }
  const protocol = `${(scheme[1] ?? '').toLowerCase()}:`;
  if (!URL_SCHEMES.has(protocol)) return `url must have schema one of [http, https, file, oci], not "${scheme[1] ?? ''}"`;
  try {
    const parsed = new URL(url);
    if ((protocol === 'http:' || protocol === 'https:' || protocol === 'oci:') && parsed.hostname === '') return 'the URL has no host';
    if (protocol === 'file:' && parsed.pathname.length <= 1) return 'a file:// URL needs an absolute path, e.g. file:///opt/plugins/filter.wasm';
  } catch {
    return `"${url}" is not a valid URL`;
  }
  return undefined;
}

const envVar = z
  .strictObject({
    name: z.string().min(1, 'name must be a non-empty string').max(256),
    valueFrom: z.enum(['INLINE', 'HOST']).default('INLINE'),
    value: z.string().max(2048).optional(),
  })
  // CRD rule: "value may only be set when valueFrom is INLINE".
  .refine((e) => e.valueFrom !== 'HOST' || e.value === undefined, { message: 'value may only be set when valueFrom is INLINE', path: ['value'] });
export type WasmEnvVar = z.infer<typeof envVar>;

const portSelector = z.strictObject({ number: z.number().int().min(1).max(65535) });

const trafficSelector = z.strictObject({
  mode: z.enum(['UNDEFINED', 'CLIENT', 'SERVER', 'CLIENT_AND_SERVER']).default('UNDEFINED'),
  ports: z.array(portSelector).default([]),
});
export type WasmTrafficSelector = z.infer<typeof trafficSelector>;

export const wasmPluginSpec = z
  .strictObject({
    selector: z.strictObject({ matchLabels: z.record(z.string(), z.string()).default({}) }).optional(),
    targetRef: policyTargetRef.optional(),
    targetRefs: z.array(policyTargetRef).max(16).default([]),
    url: z.string().min(1, 'url is required').superRefine((url, ctx) => {
      const problem = wasmUrlProblem(url);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    // CRD: `^(|[a-f0-9]{64})$`.
    sha256: z.string().regex(/^(|[a-f0-9]{64})$/, 'must be 64 lowercase hexadecimal characters (the SHA-256 of the module)').optional(),
    imagePullPolicy: z.enum(['UNSPECIFIED_POLICY', 'IfNotPresent', 'Always']).default('UNSPECIFIED_POLICY'),
    imagePullSecret: z.string().max(253).optional(),
    verificationKey: z.string().optional(),
    pluginConfig: z.record(z.string(), z.unknown()).optional(),
    pluginName: z.string().max(256).optional(),
    phase: z.enum(['UNSPECIFIED_PHASE', 'AUTHN', 'AUTHZ', 'STATS']).default('UNSPECIFIED_PHASE'),
    priority: z.number().int().min(-2147483648).max(2147483647).nullable().optional(),
    failStrategy: z.enum(['FAIL_CLOSE', 'FAIL_OPEN', 'FAIL_RELOAD']).default('FAIL_CLOSE'),
    vmConfig: z.strictObject({ env: z.array(envVar).max(256).default([]) }).optional(),
    match: z.array(trafficSelector).default([]),
    type: z.enum(['UNSPECIFIED_PLUGIN_TYPE', 'HTTP', 'NETWORK']).default('UNSPECIFIED_PLUGIN_TYPE'),
  })
  .superRefine((spec, ctx) => {
    if (spec.selector !== undefined && (spec.targetRefs.length > 0 || spec.targetRef !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['selector'], message: 'only one of targetRefs or selector can be set' });
    }
    if (spec.targetRef !== undefined && spec.targetRefs.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['targetRef'], message: 'only one of targetRef or targetRefs can be set (targetRef is deprecated: use targetRefs)' });
    }
    // Istio: "If the `url` field already references a SHA256 (using the `@sha256:` notation), it must match the value of this field."
    const inUrl = /@sha256:([a-f0-9]{64})$/.exec(spec.url)?.[1];
    if (inUrl !== undefined && spec.sha256 !== undefined && spec.sha256 !== '' && spec.sha256 !== inUrl) {
      ctx.addIssue({ code: 'custom', path: ['sha256'], message: `sha256 ${spec.sha256} does not match the digest in the url (sha256:${inUrl})` });
    }
    const names = new Set<string>();
    (spec.vmConfig?.env ?? []).forEach((e, i) => {
      if (names.has(e.name)) ctx.addIssue({ code: 'custom', path: ['vmConfig', 'env', i, 'name'], message: `duplicate env var name "${e.name}"` });
      names.add(e.name);
    });
  });
export type WasmPluginResourceSpec = z.infer<typeof wasmPluginSpec>;

/** The plugin's targets, the deprecated single `targetRef` folded in. */
export function wasmTargetsOf(spec: WasmPluginResourceSpec): ReadonlyArray<PolicyTargetRef> {
  return spec.targetRef === undefined ? spec.targetRefs : [spec.targetRef];
}

/**
 * Checks that need the resource's metadata, after the schema passed: cross-namespace targetRefs are not
 * supported (as for every Istio policy). Returns false when the resource must be rejected.
 */
export function checkWasmPlugin(res: RawResource, spec: WasmPluginResourceSpec, out: Diagnostic[]): boolean {
  let ok = true;
  const field = spec.targetRef === undefined ? 'targetRefs' : 'targetRef';
  wasmTargetsOf(spec).forEach((t, i) => {
    if (t.namespace === undefined || t.namespace === '' || t.namespace === res.metadata.namespace) return;
    const path = field === 'targetRef' ? ['spec', field, 'namespace'] : ['spec', field, i, 'namespace'];
    out.push(resourceDiagnostic(res, 'error', 'invalid-field', path,
      `cross namespace referencing is not currently supported: the target must be in the WasmPlugin's namespace "${res.metadata.namespace}"`));
    ok = false;
  });
  return ok;
}
