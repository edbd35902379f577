// Where a WasmPlugin applies at this waypoint: its targetRefs (the waypoint Gateway, the istio-waypoint
// GatewayClass from the root namespace, a Service) and its `match` selectors. Everything that keeps a plugin
// off this waypoint (selector, CLIENT-only match, NETWORK type, ServiceEntry targets) is diagnosed.
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { GatewaySpec } from '../model/gateway.js';
import { type WasmPluginResourceSpec, wasmTargetsOf } from '../model/wasm-plugin.js';
import type { Valid, ValidResources } from '../validate/validate.js';
import { enrollmentOf } from './enrollment.js';

export type WasmAttachment = { readonly kind: 'waypoint' } | { readonly kind: 'service'; readonly service: string };

export interface WasmAttachInput {
  readonly resources: ValidResources;
  readonly waypoint: Valid<GatewaySpec>;
  readonly rootNamespace: string;
}

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
  const ns = res.metadata.namespace;
  const waypoint = input.waypoint;
  const attached: WasmAttachment[] = [];
  targets.forEach((t, i) => {
    const path = field === 'targetRef' ? ['spec', field] : ['spec', field, i];
    const say = (severity: 'warning' | 'info', code: string, message: string): void => {
      out.push(resourceDiagnostic(res, severity, code, path, message));
    };
    switch (t.kind) {
      case 'Gateway':
        if (ns === waypoint.raw.metadata.namespace && t.name === waypoint.raw.metadata.name) attached.push({ kind: 'waypoint' });
        else if (input.resources.gateways.has(`${ns}/${t.name}`)) say('info', 'target-not-served', `Gateway ${ns}/${t.name} is not the waypoint this process serves (${waypoint.key}): no effect here`);
        else say('warning', 'target-not-found', `Gateway ${ns}/${t.name} not found (TargetNotFound)`);
        break;
      case 'GatewayClass':
        if (t.name !== waypoint.spec.gatewayClassName) say('warning', 'target-not-found', `GatewayClass ${t.name} is not the class of this waypoint (${waypoint.spec.gatewayClassName}): no effect here`);
        else if (ns !== input.rootNamespace) say('warning', 'invalid-target', `a WasmPlugin targeting GatewayClass ${t.name} must be in the root namespace "${input.rootNamespace}" (MeshConfig rootNamespace): ignored`);
        else attached.push({ kind: 'waypoint' });
        break;
      case 'Service': {
        const svc = input.resources.services.get(`${ns}/${t.name}`);
        if (svc === undefined) say('warning', 'target-not-found', `Service ${ns}/${t.name} not found (TargetNotFound)`);
        else {
          if (enrollmentOf(svc, input.resources).waypoint !== waypoint.key) say('info', 'target-not-served', `Service ${svc.key} does not use this waypoint (${waypoint.key}): no effect here until it does (istio.io/use-waypoint)`);
          attached.push({ kind: 'service', service: svc.key });
        }
        break;
      }
      default:
        say('warning', 'unsupported-target', `${t.kind} targets are not supported by this waypoint yet (ServiceEntry is not applied): this target has no effect`);
    }
  });
  return attached;
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
