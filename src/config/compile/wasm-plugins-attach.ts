// Where a WasmPlugin applies at this waypoint: its targetRefs (the waypoint Gateway, the istio-waypoint
// GatewayClass from the root namespace, a Service) and its `match` selectors. Everything that keeps a plugin
// off this waypoint (selector, CLIENT-only match, NETWORK type, ServiceEntry targets) is diagnosed.
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import { type WasmPluginResourceSpec, wasmTargetsOf } from '../model/wasm-plugin.js';
import type { Valid } from '../validate/validate.js';
import { attachPolicyTargets, type PolicyAttachment, type PolicyTargetInput } from './policy-targets.js';

export type WasmAttachment = PolicyAttachment;

export type WasmAttachInput = PolicyTargetInput;

/** Where the plugin attaches here; empty when it does not apply to this waypoint at all (with the reason diagnosed). */
export function wasmAttachments(plugin: Valid<WasmPluginResourceSpec>, input: WasmAttachInput, out: Diagnostic[]): WasmAttachment[] {
  const res = plugin.raw;
  const spec = plugin.spec;
  if (spec.type === 'NETWORK') {
    out.push(resourceDiagnostic(res, 'warning', 'unsupported-value', ['spec', 'type'],
      'NETWORK (L4) Wasm plugins are not supported by this waypoint yet: this plugin has no effect; use type HTTP'));
    return [];
  }
  const targets = wasmTargetsOf(spec);
  if (targets.length === 0) {
    out.push(resourceDiagnostic(res, 'warning', 'not-enforced-by-waypoint', spec.selector === undefined ? ['spec'] : ['spec', 'selector'],
      'a WasmPlugin without targetRefs (selector or namespace-wide) is for sidecars and gateways; a waypoint applies only plugins whose targetRefs name its Gateway, the istio-waypoint GatewayClass or a Service: this plugin has no effect here'));
    return [];
  }
  if (spec.match.length > 0 && !spec.match.some((m) => m.mode !== 'CLIENT')) {
    out.push(resourceDiagnostic(res, 'warning', 'not-enforced-by-waypoint', ['spec', 'match'],
      'every match selector has mode CLIENT: a waypoint handles traffic as the server side of its Services, so this plugin never applies here'));
    return [];
  }
  const field = spec.targetRef === undefined ? 'targetRefs' : 'targetRef';
  return attachPolicyTargets(res, field, targets, input, { subject: 'a WasmPlugin', unsupportedNote: ' (ServiceEntry is not applied)' }, out);
}

/**
 * Istio's traffic selectors: the plugin applies when `match` is empty or any selector matches. A waypoint is
 * the server side (mode UNDEFINED, SERVER and CLIENT_AND_SERVER match, CLIENT does not). `ports` are compared
 * with the Service port; Istio's current waypoint code passes no port, so there a `ports` list may never match.
 */
export function matchesPort(spec: WasmPluginResourceSpec, port: number): boolean {
  if (spec.match.length === 0) return true;
  return spec.match.some((m) => m.mode !== 'CLIENT' && (m.ports.length === 0 || m.ports.some((p) => p.number === port)));
}
