// Compiles one AuthorizationPolicy rule into a RuleProgram: ≥1 `from` matches AND ≥1 `to` matches AND every
// `when` condition matches (a missing list matches anything). For TCP the HTTP-only attributes follow
// Istio's generator: an ALLOW rule using one is skipped (it can never match), a DENY/AUDIT/CUSTOM rule
// drops the attribute and keeps the rest (it matches more), so a TCP port is never under-protected.
import type { AuthorizationAction, Operation, OperationField, Rule, Source, SourceField } from '../../config/model/authorization-policy.js';
import { AddrAttr, Clause, ClauseKind, StrAttr } from './clause.js';
import { type CompileContext, cidrClause, compileConditionValues, parseConditionKey } from './conditions.js';
import { expandTrustDomains, namespacesClause, principalsClause, requestPrincipalsClause, serviceAccountsClause, trustDomainsClause } from './identity-match.js';
import { compilePathTemplate, isPathTemplate } from './path-template.js';
import { buildRule, type RuleProgram } from './rule-program.js';
import { compileStringMatch, type StringMatcher } from './string-match.js';

export type CompileMode = 'http' | 'tcp';

/** Source fields present only on HTTP requests (requestPrincipals come from a JWT). */
export const HTTP_SOURCE_FIELDS: ReadonlySet<SourceField> = new Set(['requestPrincipals', 'notRequestPrincipals']);
/** Operation fields present only on HTTP requests. */
export const HTTP_OPERATION_FIELDS: ReadonlySet<OperationField> = new Set(['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths']);

/** The compiled rule, or `undefined` when the rule cannot match at all in this mode (skipped). */
export function compileRule(rule: Rule, mode: CompileMode, action: AuthorizationAction, ctx: CompileContext): RuleProgram | undefined {
  const skipHttp = mode === 'tcp';
  const strict = action === 'ALLOW';
  const clauses: Clause[] = [];
  const groups: Clause[][][] = [];
  if (rule.from !== undefined) {
    const alternatives: Clause[][] = [];
    for (const f of rule.from) {
      const src = f?.source;
      if (src === undefined || src === null) continue;
      const p = compileSource(src, skipHttp, strict, ctx);
      if (p === undefined) return undefined;
      alternatives.push(p);
    }
    groups.push(alternatives);
  }
  if (rule.to !== undefined) {
    const alternatives: Clause[][] = [];
    for (const t of rule.to) {
      const op = t?.operation;
      if (op === undefined || op === null) continue;
      const p = compileOperation(op, skipHttp, strict);
      if (p === undefined) return undefined;
      alternatives.push(p);
    }
    groups.push(alternatives);
  }
  for (const c of rule.when ?? []) {
    const key = parseConditionKey(c.key);
    if (typeof key === 'string') return undefined; // unreachable after validation; never widen
    if (skipHttp && key.httpOnly) {
      if (strict) return undefined;
      continue;
    }
    if (c.values !== undefined && c.values.length > 0) clauses.push(compileConditionValues(key, c.values, ctx));
    if (c.notValues !== undefined && c.notValues.length > 0) clauses.push(compileConditionValues(key, c.notValues, ctx).negated());
  }
  return buildRule(clauses, groups);
}

type FieldCompiler = (values: ReadonlyArray<string>, ctx: CompileContext) => Clause;

const SOURCE_POSITIVE: Readonly<Record<string, FieldCompiler>> = {
  principals: (v, ctx) => principalsClause(expandTrustDomains(v, ctx.trustDomains)),
  requestPrincipals: (v) => requestPrincipalsClause(v),
  namespaces: (v) => namespacesClause(v),
  serviceAccounts: (v, ctx) => serviceAccountsClause(v, ctx.policyNamespace),
  ipBlocks: (v) => cidrClause(v, AddrAttr.Source),
  remoteIpBlocks: (v) => cidrClause(v, AddrAttr.Remote),
  trustDomains: (v) => trustDomainsClause(v),
};

/** The clauses of one source (ANDed), or undefined when an ALLOW rule cannot match on TCP. */
function compileSource(src: Source, skipHttp: boolean, strict: boolean, ctx: CompileContext): Clause[] | undefined {
  const out: Clause[] = [];
  for (const base of Object.keys(SOURCE_POSITIVE)) {
    const compile = SOURCE_POSITIVE[base] as FieldCompiler;
    const notField = `not${base[0]?.toUpperCase() ?? ''}${base.slice(1)}` as SourceField;
    for (const [field, negate] of [[base as SourceField, false], [notField, true]] as const) {
      const values = src[field];
      if (values === undefined || values.length === 0) continue;
      if (skipHttp && HTTP_SOURCE_FIELDS.has(field)) {
        if (strict) return undefined;
        continue;
      }
      const c = compile(values, ctx);
      out.push(negate ? c.negated() : c);
    }
  }
  return out;
}

const OPERATION_POSITIVE: Readonly<Record<string, (values: ReadonlyArray<string>) => Clause>> = {
  // `:authority` including any port, case-insensitively (Istio compiles hosts with ignore_case): the
  // values are lower-cased here and the request's host once per request. Hosts and methods are Envoy
  // header matchers, so `*` is `present_match` (an empty value passes).
  hosts: (v) => new Clause(ClauseKind.Str, false, { attr: StrAttr.HostLower, matchers: v.map((x) => compileStringMatch(x.toLowerCase())), flag: true }),
  ports: (v) => new Clause(ClauseKind.Port, false, { numbers: [...new Set(v.map(Number))] }),
  methods: (v) => new Clause(ClauseKind.Str, false, { attr: StrAttr.Method, matchers: v.map((x) => compileStringMatch(x)), flag: true }),
  paths: (v) => {
    const matchers: StringMatcher[] = [];
    const regexes: RegExp[] = [];
    const templates: string[] = [];
    for (const x of v) {
      if (isPathTemplate(x)) {
        regexes.push(compilePathTemplate(x));
        templates.push(x);
      } else matchers.push(compileStringMatch(x));
    }
    return new Clause(ClauseKind.Path, false, { matchers, regexes, words: templates });
  },
};

/** The clauses of one operation (ANDed), or undefined when an ALLOW rule cannot match on TCP. */
function compileOperation(op: Operation, skipHttp: boolean, strict: boolean): Clause[] | undefined {
  const out: Clause[] = [];
  for (const base of Object.keys(OPERATION_POSITIVE)) {
    const compile = OPERATION_POSITIVE[base] as (values: ReadonlyArray<string>) => Clause;
    const notField = `not${base[0]?.toUpperCase() ?? ''}${base.slice(1)}` as OperationField;
    for (const [field, negate] of [[base as OperationField, false], [notField, true]] as const) {
      const values = op[field];
      if (values === undefined || values.length === 0) continue;
      if (skipHttp && HTTP_OPERATION_FIELDS.has(field)) {
        if (strict) return undefined;
        continue;
      }
      const c = compile(values);
      out.push(negate ? c.negated() : c);
    }
  }
  return out;
}
