// Compiles one AuthorizationPolicy rule into a predicate: ≥1 `from` matches AND ≥1 `to` matches AND every
// `when` condition matches (a missing list matches anything). For TCP the HTTP-only attributes follow
// Istio's generator: an ALLOW rule using one is skipped (it can never match), a DENY/AUDIT/CUSTOM rule
// drops the attribute and keeps the rest (it matches more), so a TCP port is never under-protected.
import type { AuthorizationAction, Operation, OperationField, Rule, Source, SourceField } from '../../config/model/authorization-policy.js';
import type { AuthzInput } from './authz-input.js';
import { ALWAYS, type CompileContext, compileConditionValues, parseConditionKey } from './conditions.js';
import { expandTrustDomains, namespacesPred, principalsPred, type Pred, requestPrincipalsPred, serviceAccountsPred, trustDomainsPred } from './identity-match.js';
import { type Address, type CidrRange, inAnyRange, parseCidr } from './ip-match.js';
import { compilePathTemplate, isPathTemplate } from './path-template.js';
import { anyMatches, compileStringMatch } from './string-match.js';

export type CompileMode = 'http' | 'tcp';

/** Source fields present only on HTTP requests (requestPrincipals come from a JWT). */
export const HTTP_SOURCE_FIELDS: ReadonlySet<SourceField> = new Set(['requestPrincipals', 'notRequestPrincipals']);
/** Operation fields present only on HTTP requests. */
export const HTTP_OPERATION_FIELDS: ReadonlySet<OperationField> = new Set(['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths']);

/** The compiled rule, or `undefined` when the rule cannot match at all in this mode (skipped). */
export function compileRule(rule: Rule, mode: CompileMode, action: AuthorizationAction, ctx: CompileContext): Pred | undefined {
  const skipHttp = mode === 'tcp';
  const strict = action === 'ALLOW';
  const parts: Pred[] = [];
  if (rule.from !== undefined) {
    const alternatives: Pred[] = [];
    for (const f of rule.from) {
      const src = f?.source;
      if (src === undefined || src === null) continue;
      const p = compileSource(src, skipHttp, strict, ctx);
      if (p === undefined) return undefined;
      alternatives.push(p);
    }
    parts.push(or(alternatives));
  }
  if (rule.to !== undefined) {
    const alternatives: Pred[] = [];
    for (const t of rule.to) {
      const op = t?.operation;
      if (op === undefined || op === null) continue;
      const p = compileOperation(op, skipHttp, strict);
      if (p === undefined) return undefined;
      alternatives.push(p);
    }
    parts.push(or(alternatives));
  }
  for (const c of rule.when ?? []) {
    const key = parseConditionKey(c.key);
    if (typeof key === 'string') return undefined; // unreachable after validation; never widen
    if (skipHttp && key.httpOnly) {
      if (strict) return undefined;
      continue;
    }
    const pos = c.values !== undefined && c.values.length > 0 ? compileConditionValues(key, c.values, ctx) : undefined;
    const neg = c.notValues !== undefined && c.notValues.length > 0 ? compileConditionValues(key, c.notValues, ctx) : undefined;
    parts.push(withNot(pos, neg));
  }
  return and(parts);
}

type FieldCompiler<T> = (values: ReadonlyArray<string>, ctx: CompileContext) => T;

const SOURCE_POSITIVE: Readonly<Record<string, FieldCompiler<Pred>>> = {
  principals: (v, ctx) => principalsPred(expandTrustDomains(v, ctx.trustDomains)),
  requestPrincipals: (v) => requestPrincipalsPred(v),
  namespaces: (v) => namespacesPred(v),
  serviceAccounts: (v, ctx) => serviceAccountsPred(v, ctx.policyNamespace),
  ipBlocks: (v) => ipPred(v, (i) => i.sourceAddress),
  remoteIpBlocks: (v) => ipPred(v, (i) => i.remoteAddress),
  trustDomains: (v) => trustDomainsPred(v),
};

function compileSource(src: Source, skipHttp: boolean, strict: boolean, ctx: CompileContext): Pred | undefined {
  const preds: Pred[] = [];
  for (const base of Object.keys(SOURCE_POSITIVE)) {
    const compile = SOURCE_POSITIVE[base] as FieldCompiler<Pred>;
    const notField = `not${base[0]?.toUpperCase() ?? ''}${base.slice(1)}` as SourceField;
    for (const [field, negate] of [[base as SourceField, false], [notField, true]] as const) {
      const values = src[field];
      if (values === undefined || values.length === 0) continue;
      if (skipHttp && HTTP_SOURCE_FIELDS.has(field)) {
        if (strict) return undefined;
        continue;
      }
      const p = compile(values, ctx);
      preds.push(negate ? not(p) : p);
    }
  }
  return and(preds);
}

const OPERATION_POSITIVE: Readonly<Record<string, (values: ReadonlyArray<string>) => Pred>> = {
  hosts: (v) => {
    // `:authority` including any port, case-insensitively (Istio compiles hosts with ignore_case).
    const ms = v.map((x) => compileStringMatch(x, true));
    return (i) => anyMatches(ms, i.host, true);
  },
  ports: (v) => {
    const ports = new Set(v.map(Number));
    return (i) => ports.has(i.destinationPort);
  },
  methods: (v) => {
    const ms = v.map((x) => compileStringMatch(x));
    return (i) => anyMatches(ms, i.method, true);
  },
  paths: (v) => {
    const tests = v.map((x): ((p: string) => boolean) => {
      if (isPathTemplate(x)) {
        const re = compilePathTemplate(x);
        return (p) => re.test(p);
      }
      const m = compileStringMatch(x);
      return (p) => m.test(p);
    });
    return (i) => {
      const p = i.path;
      if (p === undefined) return false;
      for (let k = 0; k < tests.length; k++) if ((tests[k] as (s: string) => boolean)(p)) return true;
      return false;
    };
  },
};

function compileOperation(op: Operation, skipHttp: boolean, strict: boolean): Pred | undefined {
  const preds: Pred[] = [];
  for (const base of Object.keys(OPERATION_POSITIVE)) {
    const compile = OPERATION_POSITIVE[base] as (values: ReadonlyArray<string>) => Pred;
    const notField = `not${base[0]?.toUpperCase() ?? ''}${base.slice(1)}` as OperationField;
    for (const [field, negate] of [[base as OperationField, false], [notField, true]] as const) {
      const values = op[field];
      if (values === undefined || values.length === 0) continue;
      if (skipHttp && HTTP_OPERATION_FIELDS.has(field)) {
        if (strict) return undefined;
        continue;
      }
      const p = compile(values);
      preds.push(negate ? not(p) : p);
    }
  }
  return and(preds);
}

function ipPred(values: ReadonlyArray<string>, get: (i: AuthzInput) => Address | undefined): Pred {
  const ranges = values.map((v) => parseCidr(v)).filter((r): r is CidrRange => r !== undefined);
  return (i) => inAnyRange(ranges, get(i));
}

function not(p: Pred): Pred {
  return (i) => !p(i);
}

function withNot(pos: Pred | undefined, neg: Pred | undefined): Pred {
  if (pos !== undefined && neg !== undefined) return (i) => pos(i) && !neg(i);
  if (pos !== undefined) return pos;
  if (neg !== undefined) return not(neg);
  return ALWAYS;
}

function and(preds: ReadonlyArray<Pred>): Pred {
  if (preds.length === 0) return ALWAYS;
  if (preds.length === 1) return preds[0] as Pred;
  if (preds.length === 2) {
    const [a, b] = preds as [Pred, Pred];
    return (i) => a(i) && b(i);
  }
  return (i) => {
    for (let k = 0; k < preds.length; k++) if (!(preds[k] as Pred)(i)) return false;
    return true;
  };
}

/** OR over `from`/`to` entries; an empty list (every entry skipped for TCP) matches anything. */
function or(preds: ReadonlyArray<Pred>): Pred {
  if (preds.length === 0) return ALWAYS;
  if (preds.length === 1) return preds[0] as Pred;
  return (i) => {
    for (let k = 0; k < preds.length; k++) if ((preds[k] as Pred)(i)) return true;
    return false;
  };
}
