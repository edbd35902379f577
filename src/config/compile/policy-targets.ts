// Where a targetRefs-attached resource (RequestAuthentication, WasmPlugin) applies at this waypoint: its
// Gateway, the istio-waypoint GatewayClass from the root namespace, or a Service. Every target that does not
// attach here is explained with a diagnostic on its field.
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { GatewaySpec } from '../model/gateway.js';
import type { PolicyTargetRef } from '../model/request-authentication.js';
import type { RawResource } from '../resource.js';
import type { Valid, ValidResources } from '../validate/validate.js';
import { enrollmentOf } from './enrollment.js';

export type PolicyAttachment = { readonly kind: 'waypoint' } | { readonly kind: 'service'; readonly service: string };

export interface PolicyTargetInput {
  readonly resources: ValidResources;
  /** The waypoint Gateway this process serves. */
  readonly waypoint: Valid<GatewaySpec>;
  /** MeshConfig `rootNamespace`: where GatewayClass-targeted resources live. */
  readonly rootNamespace: string;
}

/** How the messages name the resource and what they say of targets this waypoint cannot use. */
export interface PolicyTargetWording {
  /** e.g. 'a policy', 'a WasmPlugin'. */
  readonly subject: string;
  /** Appended to the unsupported-kind message, e.g. ' (ServiceEntry is not applied)'. */
  readonly unsupportedNote: string;
}

export function attachPolicyTargets(
  res: RawResource, field: 'targetRef' | 'targetRefs', targets: ReadonlyArray<PolicyTargetRef>,
  input: PolicyTargetInput, wording: PolicyTargetWording, out: Diagnostic[],
): PolicyAttachment[] {
  const ns = res.metadata.namespace;
  const waypoint = input.waypoint;
  const attached: PolicyAttachment[] = [];
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
        else if (ns !== input.rootNamespace) say('warning', 'invalid-target', `${wording.subject} targeting GatewayClass ${t.name} must be in the root namespace "${input.rootNamespace}" (MeshConfig rootNamespace): ignored`);
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
        say('warning', 'unsupported-target', `${t.kind} targets are not supported by this waypoint yet${wording.unsupportedNote}: this target has no effect`);
    }
  });
  return attached;
}
