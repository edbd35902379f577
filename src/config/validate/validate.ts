// Validation: raw resources in, typed resources and diagnostics out. Pure and synchronous.
// A resource with any error is rejected whole; the rest go on to compile.
import { z } from 'zod';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import { type AuthorizationPolicySpec, authorizationPolicySpec } from '../model/authorization-policy.js';
import { validateAuthorizationPolicy } from '../../security/authz/validate-policy.js';
import { type EndpointSliceBody, endpointSliceBody, type ServiceSpec, serviceSpec } from '../model/core.js';
import { type GatewaySpec, gatewaySpec } from '../model/gateway.js';
import { ENVOY_FILTER_KIND, envoyFilterDiagnostic } from '../model/envoy-filter.js';
import { checkDestinationRule, type DestinationRuleSpec, destinationRuleSpec } from '../model/destination-rule.js';
import { checkVirtualService } from '../model/virtual-service-check.js';
import { type VirtualServiceSpec, virtualServiceSpec } from '../model/virtual-service.js';
import { type GRPCRouteSpec, grpcRouteSpec } from '../model/grpc-route.js';
import { type HTTPRouteSpec, httpRouteSpec } from '../model/http-route.js';
import { type PodSpec, podSpec } from '../model/pod.js';
import { type ReferenceGrantSpec, referenceGrantSpec } from '../model/reference-grant.js';
import { checkRequestAuthentication, type RequestAuthenticationSpec, requestAuthenticationSpec } from '../model/request-authentication.js';
import { type TCPRouteSpec, tcpRouteSpec } from '../model/tcp-route.js';
import { type TelemetrySpec, telemetrySpec } from '../model/telemetry.js';
import { type TLSRouteSpec, tlsRouteSpec } from '../model/tls-route.js';
import { checkWasmPlugin, type WasmPluginResourceSpec, wasmPluginSpec } from '../model/wasm-plugin.js';
import type { RawResource } from '../resource.js';
import { APPLIED_KINDS, type AppliedKind, isAppliedKind, NOT_YET_APPLIED_KINDS } from './kinds.js';
import { parseField } from './schema.js';

/** A resource that passed validation, with its typed spec. */
export interface Valid<S> {
  readonly raw: RawResource;
  readonly spec: S;
  /** `namespace/name` (just `name` for cluster-scoped kinds). */
  readonly key: string;
  /** creationTimestamp in ms, or Infinity when absent (sorted last, then by source order). */
  readonly created: number;
}

export interface ValidResources {
  readonly namespaces: ReadonlyMap<string, Valid<null>>;
  /** Pods, read for ambient enrollment (`istio.io/dataplane-mode`) and their service account. */
  readonly pods: ReadonlyMap<string, Valid<PodSpec>>;
  readonly services: ReadonlyMap<string, Valid<ServiceSpec>>;
  readonly endpointSlices: ReadonlyArray<Valid<EndpointSliceBody>>;
  readonly gateways: ReadonlyMap<string, Valid<GatewaySpec>>;
  readonly httpRoutes: ReadonlyArray<Valid<HTTPRouteSpec>>;
  readonly referenceGrants: ReadonlyArray<Valid<ReferenceGrantSpec>>;
  readonly tlsRoutes: ReadonlyArray<Valid<TLSRouteSpec>>;
  readonly tcpRoutes: ReadonlyArray<Valid<TCPRouteSpec>>;
  readonly grpcRoutes: ReadonlyArray<Valid<GRPCRouteSpec>>;
  readonly requestAuthentications: ReadonlyArray<Valid<RequestAuthenticationSpec>>;
  readonly telemetries: ReadonlyArray<Valid<TelemetrySpec>>;
  /** AuthorizationPolicies that passed the schema and Istio's admission checks (src/security/authz/validate-policy.ts). */
  readonly authorizationPolicies: ReadonlyArray<Valid<AuthorizationPolicySpec>>;
  /** DestinationRules that passed the schema and Istio's oneof checks (model/destination-rule.ts). */
  readonly destinationRules: ReadonlyArray<Valid<DestinationRuleSpec>>;
  /** WasmPlugins that passed the schema and the cross-namespace check (model/wasm-plugin.ts). */
  readonly wasmPlugins: ReadonlyArray<Valid<WasmPluginResourceSpec>>;
  /** VirtualServices that passed the schema and Istio's admission checks (model/virtual-service-check.ts). */
  readonly virtualServices: ReadonlyArray<Valid<VirtualServiceSpec>>;
}

export interface ValidationResult {
  readonly resources: ValidResources;
  readonly diagnostics: Diagnostic[];
  /** Resources of applied kinds that failed validation (duplicates excluded). */
  readonly rejected: ReadonlyArray<RawResource>;
}

const TOP_LEVEL_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
const SLICE_TOP_LEVEL_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'addressType', 'endpoints', 'ports']);

export function validateResources(raw: ReadonlyArray<RawResource>): ValidationResult {
  const diagnostics: Diagnostic[] = [];
  const namespaces = new Map<string, Valid<null>>();
  const pods = new Map<string, Valid<PodSpec>>();
  const services = new Map<string, Valid<ServiceSpec>>();
  const gateways = new Map<string, Valid<GatewaySpec>>();
  const endpointSlices: Valid<EndpointSliceBody>[] = [];
  const httpRoutes: Valid<HTTPRouteSpec>[] = [];
  const referenceGrants: Valid<ReferenceGrantSpec>[] = [];
  const tlsRoutes: Valid<TLSRouteSpec>[] = [];
  const tcpRoutes: Valid<TCPRouteSpec>[] = [];
  const grpcRoutes: Valid<GRPCRouteSpec>[] = [];
  const requestAuthentications: Valid<RequestAuthenticationSpec>[] = [];
  const telemetries: Valid<TelemetrySpec>[] = [];
  const authorizationPolicies: Valid<AuthorizationPolicySpec>[] = [];
  const destinationRules: Valid<DestinationRuleSpec>[] = [];
  const wasmPlugins: Valid<WasmPluginResourceSpec>[] = [];
  const virtualServices: Valid<VirtualServiceSpec>[] = [];
  const seen = new Map<string, RawResource>();
  const rejected: RawResource[] = [];

  for (const res of raw) {
    const kind = res.kind;
    if (!isAppliedKind(kind)) {
      reportUnapplied(res, diagnostics);
      continue;
    }
    if (!checkApiVersion(res, kind, diagnostics)) {
      rejected.push(res);
      continue;
    }
    const key = res.metadata.namespace === '' ? res.metadata.name : `${res.metadata.namespace}/${res.metadata.name}`;
    const identity = `${kind}\u0000${key}`;
    const first = seen.get(identity);
    if (first !== undefined) {
      diagnostics.push(
        resourceDiagnostic(res, 'error', 'duplicate-object', ['metadata', 'name'],
          `duplicate object: ${kind} ${key} is already defined at ${first.origin.file}:${first.origin.line}; this copy is ignored (rename one of them or delete it)`),
      );
      continue;
    }
    seen.set(identity, res);
    const created = createdMs(res, diagnostics);
    const before = namespaces.size + pods.size + services.size + gateways.size + endpointSlices.length + httpRoutes.length + referenceGrants.length + tlsRoutes.length + tcpRoutes.length + grpcRoutes.length + requestAuthentications.length + telemetries.length + authorizationPolicies.length + destinationRules.length + wasmPlugins.length + virtualServices.length;
    switch (kind) {
      case 'Namespace':
        if (checkTopLevel(res, TOP_LEVEL_KEYS, diagnostics)) namespaces.set(key, { raw: res, spec: null, key, created });
        break;
      case 'Pod': {
        const spec = parseSpec(res, podSpec, diagnostics);
        if (spec !== undefined) pods.set(key, { raw: res, spec, key, created });
        break;
      }
      case 'Service': {
        const spec = parseSpec(res, serviceSpec, diagnostics);
        if (spec !== undefined) services.set(key, { raw: res, spec, key, created });
        break;
      }
      case 'EndpointSlice': {
        if (!checkTopLevel(res, SLICE_TOP_LEVEL_KEYS, diagnostics)) break;
        const { addressType, endpoints, ports } = res.object;
        const parsed = parseField(res, endpointSliceBody, [], { addressType, endpoints, ports }, diagnostics);
        if (parsed.ok) endpointSlices.push({ raw: res, spec: parsed.value, key, created });
        break;
      }
      case 'Gateway': {
        const spec = parseSpec(res, gatewaySpec, diagnostics);
        if (spec !== undefined) gateways.set(key, { raw: res, spec, key, created });
        break;
      }
      case 'HTTPRoute': {
        const spec = parseSpec(res, httpRouteSpec, diagnostics);
        if (spec !== undefined) httpRoutes.push({ raw: res, spec, key, created });
        break;
      }
      case 'ReferenceGrant': {
        const spec = parseSpec(res, referenceGrantSpec, diagnostics);
        if (spec !== undefined) referenceGrants.push({ raw: res, spec, key, created });
        break;
      }
      case 'TLSRoute': {
        const spec = parseSpec(res, tlsRouteSpec(res.apiVersion), diagnostics);
        if (spec !== undefined) tlsRoutes.push({ raw: res, spec, key, created });
        break;
      }
      case 'TCPRoute': {
        const spec = parseSpec(res, tcpRouteSpec(res.apiVersion), diagnostics);
        if (spec !== undefined) tcpRoutes.push({ raw: res, spec, key, created });
        break;
      }
      case 'GRPCRoute': {
        const spec = parseSpec(res, grpcRouteSpec, diagnostics);
        if (spec !== undefined) grpcRoutes.push({ raw: res, spec, key, created });
        break;
      }
      case 'RequestAuthentication': {
        const spec = parseSpec(res, requestAuthenticationSpec, diagnostics);
        if (spec !== undefined && checkRequestAuthentication(res, spec, diagnostics)) requestAuthentications.push({ raw: res, spec, key, created });
        break;
      }
      case 'Telemetry': {
        const spec = parseSpec(res, telemetrySpec, diagnostics);
        if (spec !== undefined) telemetries.push({ raw: res, spec, key, created });
        break;
      }
      case 'AuthorizationPolicy': {
        const spec = parseSpec(res, authorizationPolicySpec, diagnostics);
        if (spec !== undefined && validateAuthorizationPolicy(res, spec, diagnostics)) authorizationPolicies.push({ raw: res, spec, key, created });
        break;
      }
      case 'DestinationRule': {
        const spec = parseSpec(res, destinationRuleSpec, diagnostics);
        if (spec !== undefined && checkDestinationRule(res, spec, diagnostics)) destinationRules.push({ raw: res, spec, key, created });
        break;
      }
      case 'WasmPlugin': {
        const spec = parseSpec(res, wasmPluginSpec, diagnostics);
        if (spec !== undefined && checkWasmPlugin(res, spec, diagnostics)) wasmPlugins.push({ raw: res, spec, key, created });
        break;
      }
      case 'VirtualService': {
        const spec = parseSpec(res, virtualServiceSpec, diagnostics);
        if (spec !== undefined && checkVirtualService(res, spec, diagnostics)) virtualServices.push({ raw: res, spec, key, created });
        break;
      }
    }
    const after = namespaces.size + pods.size + services.size + gateways.size + endpointSlices.length + httpRoutes.length + referenceGrants.length + tlsRoutes.length + tcpRoutes.length + grpcRoutes.length + requestAuthentications.length + telemetries.length + authorizationPolicies.length + destinationRules.length + wasmPlugins.length + virtualServices.length;
    if (after === before) rejected.push(res);
  }
  return { resources: { namespaces, pods, services, endpointSlices, gateways, httpRoutes, referenceGrants, tlsRoutes, tcpRoutes, grpcRoutes, requestAuthentications, telemetries, authorizationPolicies, destinationRules, wasmPlugins, virtualServices }, diagnostics, rejected };
}

function reportUnapplied(res: RawResource, out: Diagnostic[]): void {
  if (res.kind === ENVOY_FILTER_KIND) {
    out.push(envoyFilterDiagnostic(res));
  } else if (NOT_YET_APPLIED_KINDS.has(res.kind)) {
    out.push(resourceDiagnostic(res, 'warning', 'not-yet-applied', [],
      `${res.kind} is recognised but not yet applied by this waypoint; it has no effect on traffic`));
  } else {
    out.push(resourceDiagnostic(res, 'warning', 'unknown-kind', ['kind'],
      `unknown kind ${res.kind} (${res.apiVersion}): ignored; supported kinds are ${Object.keys(APPLIED_KINDS).join(', ')}`));
  }
}

function checkApiVersion(res: RawResource, kind: AppliedKind, out: Diagnostic[]): boolean {
  const accepted = APPLIED_KINDS[kind];
  if (accepted.includes(res.apiVersion)) return true;
  out.push(resourceDiagnostic(res, 'error', 'unsupported-api-version', ['apiVersion'],
    `${kind} apiVersion "${res.apiVersion}" is not supported: use ${accepted.map((v) => `"${v}"`).join(' or ')}`));
  return false;
}

function checkTopLevel(res: RawResource, allowed: ReadonlySet<string>, out: Diagnostic[]): boolean {
  let ok = true;
  for (const key of Object.keys(res.object)) {
    if (allowed.has(key)) continue;
    out.push(resourceDiagnostic(res, 'error', 'unknown-field', [key],
      `unknown field "${key}": ${res.kind} has ${[...allowed].map((k) => `"${k}"`).join(', ')}`));
    ok = false;
  }
  return ok;
}

function parseSpec<S extends z.ZodType>(res: RawResource, schema: S, out: Diagnostic[]): z.output<S> | undefined {
  if (!checkTopLevel(res, TOP_LEVEL_KEYS, out)) return undefined;
  const parsed = parseField(res, schema, ['spec'], res.object['spec'] ?? {}, out);
  return parsed.ok ? parsed.value : undefined;
}

function createdMs(res: RawResource, out: Diagnostic[]): number {
  const ts = res.metadata.creationTimestamp;
  if (ts === undefined) return Number.POSITIVE_INFINITY;
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) {
    out.push(resourceDiagnostic(res, 'warning', 'invalid-field', ['metadata', 'creationTimestamp'],
      `creationTimestamp "${ts}" is not an RFC 3339 time (e.g. "2024-05-01T10:00:00Z"); treated as unset`));
    return Number.POSITIVE_INFINITY;
  }
  return ms;
}
