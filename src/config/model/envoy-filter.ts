// EnvoyFilter on a waypoint: never applied. Istio's ambient docs: "EnvoyFilter is not supported on waypoints";
// this proxy is not Envoy, so there is nothing a patch could apply to. Each one gets a diagnostic pointing to WasmPlugin.
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { RawResource } from '../resource.js';

export const ENVOY_FILTER_KIND = 'EnvoyFilter';

/** The diagnostic for one EnvoyFilter: a warning (the rest of the config applies), naming the fields it would patch. */
export function envoyFilterDiagnostic(res: RawResource): Diagnostic {
  const spec = res.object['spec'];
  const patches = isRecord(spec) && Array.isArray(spec['configPatches']) ? spec['configPatches'].length : 0;
  const what = patches === 0 ? '' : ` (its ${patches} configPatch${patches === 1 ? ' is' : 'es are'} not applied)`;
  return resourceDiagnostic(res, 'warning', 'envoy-filter-unsupported', patches === 0 ? [] : ['spec', 'configPatches'],
    `EnvoyFilter is not supported on waypoints and is ignored${what}: this waypoint is not Envoy, so Envoy config patches ` +
    'have nothing to apply to. Use a WasmPlugin (extensions.istio.io/v1alpha1) with targetRefs to the Service or Gateway ' +
    'for custom request/response processing, or Gateway API filters / AuthorizationPolicy (CUSTOM) for the common cases');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
