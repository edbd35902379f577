// Istio's admission checks for AuthorizationPolicy (the webhook's ValidateAuthorizationPolicy and the
// CRD's CEL rules), run after the schema: any error rejects the whole policy, as the API server would.
import type { AuthorizationPolicySpec, Operation, Rule, Source } from '../../config/model/authorization-policy.js';
import { type Diagnostic, resourceDiagnostic } from '../../config/diagnostics.js';
import type { FieldPath, RawResource } from '../../config/resource.js';
import { conditionValueProblems, parseConditionKey } from './conditions.js';
import { parseCidr } from './ip-match.js';
import { isPathTemplate, pathTemplateProblem } from './path-template.js';
import { wildcardProblem } from './string-match.js';

/** targetRef kinds a policy may attach to, by `group/kind` (`core` for the empty group). */
export const TARGET_KINDS: ReadonlySet<string> = new Set([
  'core/Service',
  'networking.istio.io/ServiceEntry',
  'gateway.networking.k8s.io/Gateway',
  'gateway.networking.k8s.io/GatewayClass',
]);

export function targetGroupKind(group: string, kind: string): string {
  return `${group === '' ? 'core' : group}/${kind}`;
}

/** Returns true when the policy is valid; every problem is pushed as an error naming its field. */
export function validateAuthorizationPolicy(res: RawResource, spec: AuthorizationPolicySpec, out: Diagnostic[]): boolean {
  const before = out.length;
  const err = (path: FieldPath, message: string): void => {
    out.push(resourceDiagnostic(res, 'error', 'invalid-policy', ['spec', ...path], message));
  };
  const ns = res.metadata.namespace;
  const hasTargets = spec.targetRef !== undefined || (spec.targetRefs?.length ?? 0) > 0;
  if (spec.selector !== undefined && hasTargets) err(['selector'], 'only one of targetRefs or selector can be set');
  if (spec.targetRef !== undefined && spec.targetRefs !== undefined) err(['targetRef'], 'only one of targetRefs or targetRef can be set');
  for (const k of Object.keys(spec.selector?.matchLabels ?? {})) {
    const v = spec.selector?.matchLabels[k] ?? '';
    if (k === '') err(['selector', 'matchLabels'], `empty key is not supported in selector: "${k}=${v}"`);
    if (k.includes('*') || v.includes('*')) err(['selector', 'matchLabels', k], `wildcard is not supported in selector: "${k}=${v}"`);
  }
  const refs = spec.targetRefs !== undefined ? spec.targetRefs.map((r, i) => [r, ['targetRefs', i]] as const) : spec.targetRef !== undefined ? [[spec.targetRef, ['targetRef']] as const] : [];
  for (const [ref, at] of refs) {
    if (!TARGET_KINDS.has(targetGroupKind(ref.group, ref.kind))) {
      err([...at, 'kind'], `unsupported targetRef ${targetGroupKind(ref.group, ref.kind)}: supported kinds are core/Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway and gateway.networking.k8s.io/GatewayClass`);
    }
    if (ref.namespace !== undefined && ref.namespace !== '' && ref.namespace !== ns) {
      err([...at, 'namespace'], `cross namespace referencing is not currently supported: targetRef namespace "${ref.namespace}" must be empty or the policy's namespace "${ns}"`);
    }
  }

  const action = spec.action;
  if (action === 'CUSTOM') {
    if (spec.rules === undefined || spec.rules.length === 0) {
      err(['rules'], 'CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
    } else if (spec.provider === undefined || spec.provider.name === '') {
      err(['provider'], '`provider.name` must not be empty');
    }
    spec.rules?.forEach((rule, i) => {
      rule?.from?.forEach((f, j) => {
        for (const field of ['namespaces', 'notNamespaces', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals'] as const) {
          if ((f?.source?.[field]?.length ?? 0) > 0) err(['rules', i, 'from', j, 'source', field], `From.${field[0]?.toUpperCase() ?? ''}${field.slice(1)} is currently not supported with CUSTOM action`);
        }
      });
      rule?.when?.forEach((c, j) => {
        if (c.key === 'source.namespace' || c.key === 'source.principal' || c.key.startsWith('request.auth.')) {
          err(['rules', i, 'when', j, 'key'], `${c.key} is currently not supported with CUSTOM action`);
        }
      });
    });
  }
  if (spec.provider !== undefined && action !== 'CUSTOM') err(['provider'], `\`provider\` must not be with non CUSTOM action, found ${action}`);
  if (action === 'DENY' && (spec.rules === undefined || spec.rules.length === 0)) {
    err(['rules'], 'DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
  }
  spec.rules?.forEach((rule, i) => validateRule(rule, ['rules', i], i, err));
  return out.length === before;
}

type Err = (path: FieldPath, message: string) => void;

function validateRule(rule: Rule | null, at: FieldPath, i: number, err: Err): void {
  if (rule === null) {
    err(at, `\`rule\` must not be nil, found at rule ${i}`);
    return;
  }
  if (rule.from !== undefined && rule.from.length === 0) err([...at, 'from'], `\`from\` must not be empty, found at rule ${i}`);
  rule.from?.forEach((f, j) => {
    const path = [...at, 'from', j];
    if (f === null) return err(path, `\`from\` must not be nil, found at rule ${i}`);
    if (f.source === undefined || f.source === null) return err(path, `\`from.source\` must not be nil, found at rule ${i}`);
    validateSource(f.source, [...path, 'source'], i, err);
  });
  if (rule.to !== undefined && rule.to.length === 0) err([...at, 'to'], `\`to\` must not be empty, found at rule ${i}`);
  rule.to?.forEach((t, j) => {
    const path = [...at, 'to', j];
    if (t === null) return err(path, `\`to\` must not be nil, found at rule ${i}`);
    if (t.operation === undefined || t.operation === null) return err(path, `\`to.operation\` must not be nil, found at rule ${i}`);
    validateOperation(t.operation, [...path, 'operation'], i, err);
  });
  rule.when?.forEach((c, j) => {
    const path = [...at, 'when', j];
    if (c.key === '') return err([...path, 'key'], '`key` must not be empty');
    if ((c.values?.length ?? 0) === 0 && (c.notValues?.length ?? 0) === 0) {
      return err(path, `at least one of \`values\` or \`notValues\` must be set for key ${c.key}`);
    }
    const key = parseConditionKey(c.key);
    if (typeof key === 'string') return err([...path, 'key'], `invalid \`key\` ${c.key}: ${key}`);
    for (const [field, label] of [['values', 'value'], ['notValues', 'notValue']] as const) {
      for (const p of conditionValueProblems(key, c[field] ?? [])) err([...path, field], `invalid \`${label}\` for \`key\` ${c.key}: ${p}`);
    }
  });
}

const SOURCE_FIELDS = ['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks', 'trustDomains', 'notTrustDomains'] as const;

function validateSource(src: Source, at: FieldPath, i: number, err: Err): void {
  if (SOURCE_FIELDS.every((f) => (src[f]?.length ?? 0) === 0)) err(at, `\`from.source\` must not be empty, found at rule ${i}`);
  for (const f of SOURCE_FIELDS) {
    (src[f] ?? []).forEach((v, k) => {
      const path = [...at, f, k];
      if (v === '') return err(path, `empty value not allowed, found in ${f[0]?.toUpperCase() ?? ''}${f.slice(1)}`);
      if (f.endsWith('pBlocks') || f.endsWith('IpBlocks')) {
        if (parseCidr(v) === undefined) err(path, v.includes('/') ? `bad CIDR range (${v})` : `bad IP address (${v})`);
        return;
      }
      if (f === 'serviceAccounts' || f === 'notServiceAccounts') {
        if (v.includes('*')) err(path, `"${v}": wildcards are not supported in serviceAccounts`);
        else if (v.split('/').length > 2 || v.startsWith('/') || v.endsWith('/')) err(path, `"${v}": a service account is "namespace/name" or "name"`);
        return;
      }
      const w = wildcardProblem(v);
      if (w !== undefined) err(path, w);
    });
  }
  const hasSa = (src.serviceAccounts?.length ?? 0) > 0 || (src.notServiceAccounts?.length ?? 0) > 0;
  const hasOther = (src.principals?.length ?? 0) > 0 || (src.notPrincipals?.length ?? 0) > 0 || (src.namespaces?.length ?? 0) > 0 || (src.notNamespaces?.length ?? 0) > 0;
  if (hasSa && hasOther) err(at, 'serviceAccounts cannot be set with principals or namespaces');
}

const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;

function validateOperation(op: Operation, at: FieldPath, i: number, err: Err): void {
  if (OPERATION_FIELDS.every((f) => (op[f]?.length ?? 0) === 0)) err(at, `\`to.operation\` must not be empty, found at rule ${i}`);
  for (const f of OPERATION_FIELDS) {
    (op[f] ?? []).forEach((v, k) => {
      const path = [...at, f, k];
      if (v === '') return err(path, `empty value not allowed, found in ${f[0]?.toUpperCase() ?? ''}${f.slice(1)}`);
      if (f === 'ports' || f === 'notPorts') {
        if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65535) err(path, `bad port (${v})`);
        return;
      }
      if ((f === 'paths' || f === 'notPaths') && isPathTemplate(v)) {
        const p = pathTemplateProblem(v);
        if (p !== undefined) err(path, p);
        return;
      }
      const w = wildcardProblem(v);
      if (w !== undefined) err(path, w);
    });
  }
}
