// Tests for compile() of HTTPRoute filters, timeouts and retries: the status each bad input earns (with the
// spec's reasons), what the rule then does (a 500 rather than skipping a filter), and the compiled policy.
// (The small YAML builders are repeated from compile-routes.test.ts on purpose.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../source/yaml-documents.js';
import type { RouteAction } from '../snapshot.js';
import type { Condition } from '../status.js';
import { compile, type CompileResult } from './index.js';

type Obj = Readonly<Record<string, unknown>>;
function doc(apiVersion: string, kind: string, metadata: Obj, body: Obj = {}): string {
  const rest = Object.entries(body).map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: ${JSON.stringify(metadata)}\n${rest}`;
}
const GW_API = 'gateway.networking.k8s.io/v1';
const BASE = [
  doc('v1', 'Namespace', { name: 'apps', labels: { 'istio.io/use-waypoint': 'waypoint' } }),
  doc(GW_API, 'Gateway', { name: 'waypoint', namespace: 'apps' }, { spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] } }),
  doc('v1', 'Service', { name: 'web', namespace: 'apps' }, { spec: { ports: [{ name: 'http', port: 80 }] } }),
  doc('v1', 'Service', { name: 'v2', namespace: 'apps' }, { spec: { ports: [{ name: 'http', port: 80 }] } }),
];
const parent = { group: '', kind: 'Service', name: 'web' };
const toV2 = [{ name: 'v2', port: 80 }];

function run(rules: ReadonlyArray<Obj>): CompileResult {
  const route = doc(GW_API, 'HTTPRoute', { name: 'r', namespace: 'apps' }, { spec: { parentRefs: [parent], rules } });
  const parsed = parseConfigText([...BASE, route].join('---\n'), 'test.yaml', 0);
  assert.deepEqual(parsed.diagnostics, [], 'the test input parses');
  const r = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1 });
  assert.ok(r.ok, 'the config compiles');
  return r;
}
function conditions(r: CompileResult): ReadonlyArray<Condition> {
  const status = r.ok ? r.snapshot.status : r.status;
  return status.routes.find((s) => s.name === 'r')?.parents[0]?.conditions ?? [];
}
const short = (cs: ReadonlyArray<Condition>): string[] => cs.filter((c) => c.type !== 'ResolvedWaypoints').map((c) => `${c.type}=${c.status}/${c.reason}`);
/** Actions of the web Service's routes, in rule order. */
function actions(r: CompileResult): RouteAction[] {
  assert.ok(r.ok);
  const http = r.snapshot.services.get('apps/web')?.ports[0]?.http;
  assert.ok(http !== undefined && http.kind === 'routes');
  return [...http.producer].sort((a, b) => a.ruleIndex - b.ruleIndex).map((e) => e.action);
}

const ACCEPTED = 'Accepted=True/Accepted';
const REFS = 'ResolvedRefs=True/ResolvedRefs';
const rewrite = (path: Obj): Obj => ({ type: 'URLRewrite', urlRewrite: { path } });
const headerMod = (m: Obj): Obj => ({ type: 'RequestHeaderModifier', requestHeaderModifier: m });
const mirror = (m: Obj): Obj => ({ type: 'RequestMirror', requestMirror: { backendRef: { name: 'v2', port: 80 }, ...m } });

interface BadCase {
  readonly name: string;
  readonly rule: Obj;
  readonly conditions: ReadonlyArray<string>;
  /** Accepted (or PartiallyInvalid) message must contain this. */
  readonly message: string;
  /** Field path of the error diagnostic. */
  readonly path: string;
}

const badCases: ReadonlyArray<BadCase> = [
  {
    name: 'RequestRedirect with URLRewrite', conditions: ['Accepted=False/IncompatibleFilters', REFS], path: 'spec.rules[0].filters',
    rule: { filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'a.example' } }, rewrite({ type: 'ReplaceFullPath', replaceFullPath: '/x' })] },
    message: 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both',
  },
  {
    name: 'ReplacePrefixMatch with an Exact match', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].urlRewrite.path',
    rule: { matches: [{ path: { type: 'Exact', value: '/a' } }], filters: [rewrite({ type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' })], backendRefs: toV2 },
    message: 'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified',
  },
  {
    name: 'ReplacePrefixMatch with two matches', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].urlRewrite.path',
    rule: { matches: [{ path: { type: 'PathPrefix', value: '/a' } }, { path: { type: 'PathPrefix', value: '/b' } }], filters: [rewrite({ type: 'ReplacePrefixMatch', replacePrefixMatch: '/c' })], backendRefs: toV2 },
    message: 'exactly one PathPrefix match must be specified',
  },
  {
    name: 'a redirect ReplacePrefixMatch without a prefix match', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].requestRedirect.path',
    rule: { matches: [{ path: { type: 'RegularExpression', value: '/a.*' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } }] },
    message: 'When using RequestRedirect filter with path.replacePrefixMatch',
  },
  {
    name: 'a path modifier without its value', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].urlRewrite.path',
    rule: { filters: [rewrite({ type: 'ReplaceFullPath' })], backendRefs: toV2 }, message: "replaceFullPath must be specified (and only it) when type is set to 'ReplaceFullPath'",
  },
  {
    name: 'backendRequest longer than request', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].timeouts',
    rule: { timeouts: { request: '1s', backendRequest: '2s' }, backendRefs: toV2 }, message: 'backendRequest timeout (2s) cannot be longer than request timeout (1s)',
  },
  {
    name: 'an ExtensionRef filter', conditions: ['Accepted=False/IncompatibleFilters', REFS], path: 'spec.rules[0].filters[0].extensionRef',
    rule: { filters: [{ type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'Magic', name: 'm' } }], backendRefs: toV2 },
    message: 'unsupported filter type "ExtensionRef" (example.com/Magic m)',
  },
  {
    name: 'an ExternalAuth filter', conditions: ['Accepted=False/IncompatibleFilters', REFS], path: 'spec.rules[0].filters[0].externalAuth',
    rule: { filters: [{ type: 'ExternalAuth', externalAuth: { protocol: 'HTTP' } }], backendRefs: toV2 }, message: 'unsupported filter type "ExternalAuth"',
  },
  {
    name: 'an unknown filter type', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].type',
    rule: { filters: [{ type: 'RequestHeaderModifer' }], backendRefs: toV2 }, message: 'unsupported filter type "RequestHeaderModifer"',
  },
  {
    name: 'a repeated RequestHeaderModifier', conditions: ['Accepted=False/IncompatibleFilters', REFS], path: 'spec.rules[0].filters',
    rule: { filters: [headerMod({ set: [{ name: 'a', value: '1' }] }), headerMod({ set: [{ name: 'b', value: '2' }] })], backendRefs: toV2 }, message: 'RequestHeaderModifier filter cannot be repeated',
  },
  {
    name: 'a filter type without its configuration', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].type',
    rule: { filters: [{ type: 'RequestHeaderModifier' }], backendRefs: toV2 }, message: 'filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type',
  },
  {
    name: 'configuration of another filter type', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].urlRewrite',
    rule: { filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [] }, urlRewrite: { hostname: 'x.example' } }], backendRefs: toV2 },
    message: 'filter.urlRewrite must be nil if the filter.type is not URLRewrite',
  },
  {
    name: 'two actions on one header name', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].requestHeaderModifier',
    rule: { filters: [headerMod({ set: [{ name: 'X-A', value: '1' }], remove: ['x-a'] })], backendRefs: toV2 }, message: 'header "x-a" has more than one action',
  },
  {
    name: 'RequestRedirect together with backendRefs', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters',
    rule: { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }], backendRefs: toV2 }, message: 'RequestRedirect filter must not be used together with backendRefs',
  },
  {
    name: 'a mirror with both percent and fraction', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].requestMirror',
    rule: { filters: [mirror({ percent: 10, fraction: { numerator: 1 } })], backendRefs: toV2 }, message: 'Only one of percent or fraction may be specified',
  },
  {
    name: 'a mirror fraction above 1', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].requestMirror.fraction',
    rule: { filters: [mirror({ fraction: { numerator: 3, denominator: 2 } })], backendRefs: toV2 }, message: 'numerator must be less than or equal to denominator',
  },
  {
    name: 'CORS * alongside other origins', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].cors.allowOrigins',
    rule: { filters: [{ type: 'CORS', cors: { allowOrigins: ['*', 'https://a.example'] } }], backendRefs: toV2 }, message: "allowOrigins cannot contain '*' alongside other values",
  },
  {
    name: 'a CORS origin without scheme', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].cors.allowOrigins[0]',
    rule: { filters: [{ type: 'CORS', cors: { allowOrigins: ['www.example.com'] } }], backendRefs: toV2 }, message: 'origin "www.example.com" must be',
  },
  {
    name: 'a wildcard redirect hostname', conditions: ['Accepted=False/UnsupportedValue', REFS], path: 'spec.rules[0].filters[0].requestRedirect.hostname',
    rule: { filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: '*.example.com' } }] }, message: 'hostname "*.example.com" must be a lower-case RFC 1123 hostname',
  },
  {
    name: 'RequestRedirect and URLRewrite on one backendRef', conditions: ['Accepted=False/IncompatibleFilters', REFS], path: 'spec.rules[0].backendRefs[0].filters',
    rule: { backendRefs: [{ name: 'v2', port: 80, filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'a.example' } }, rewrite({ type: 'ReplaceFullPath', replaceFullPath: '/x' })] }] },
    message: 'May specify either',
  },
];

for (const c of badCases) {
  test(`bad input, ${c.name}: status and a 500 for the rule's requests`, () => {
    const r = run([c.rule]);
    const cs = conditions(r);
    assert.deepEqual(short(cs), c.conditions);
    assert.ok((cs.find((x) => x.type === 'Accepted')?.message ?? '').includes(c.message), cs.find((x) => x.type === 'Accepted')?.message);
    assert.ok(r.diagnostics.some((d) => d.severity === 'error' && d.path === c.path && d.message.includes(c.message) && d.line !== undefined),
      `an error diagnostic at ${c.path}: ${JSON.stringify(r.diagnostics.map((d) => [d.path, d.message]))}`);
    const [action] = actions(r);
    assert.ok(action?.kind === 'direct');
    assert.deepEqual([action.status, action.details], [500, c.path.endsWith('timeouts') ? 'route_rule_invalid' : 'filter_not_supported']);
  });
}

test('one bad rule of two: Accepted, PartiallyInvalid "Dropped Rule", the other rule forwards', () => {
  const r = run([{ backendRefs: toV2 }, { matches: [{ path: { value: '/x' } }], filters: [{ type: 'ExtensionRef', extensionRef: { group: 'g', kind: 'K', name: 'n' } }], backendRefs: toV2 }]);
  const cs = conditions(r);
  assert.deepEqual(short(cs), [ACCEPTED, REFS, 'PartiallyInvalid=True/UnsupportedValue']);
  assert.match(cs.find((x) => x.type === 'PartiallyInvalid')?.message ?? '', /^Dropped Rule\(s\): 1 of 2 rules are invalid: rule 1: unsupported filter type "ExtensionRef".*\(requests it matches get 500\)$/);
  assert.deepEqual(actions(r).map((a) => a.kind), ['forward', 'direct']);
});

test('a mirror whose backend does not exist is dropped: ResolvedRefs=False, the rule still forwards', () => {
  const r = run([{ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'ghost', port: 80 } } }], backendRefs: toV2 }]);
  assert.deepEqual(short(conditions(r)), [ACCEPTED, 'ResolvedRefs=False/BackendNotFound']);
  assert.ok(r.ok);
  const entry = r.snapshot.services.get('apps/web')?.ports[0]?.http;
  assert.ok(entry?.kind === 'routes');
  assert.deepEqual(entry.producer[0]?.filters, []);
  assert.equal(entry.producer[0]?.action.kind, 'forward');
});

const validCases: ReadonlyArray<{ readonly name: string; readonly rule: Obj; readonly filters: ReadonlyArray<string> }> = [
  { name: 'ReplacePrefixMatch with the default match (PathPrefix /)', rule: { filters: [rewrite({ type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' })], backendRefs: toV2 }, filters: ['route.url_rewrite'] },
  { name: 'a repeated RequestMirror', rule: { filters: [mirror({}), mirror({ percent: 5 })], backendRefs: toV2 }, filters: ['route.request_mirror', 'route.request_mirror'] },
  {
    name: 'every filter type in listed order',
    rule: {
      filters: [
        { type: 'CORS', cors: { allowOrigins: ['https://a.example'] } }, headerMod({ add: [{ name: 'a', value: '1' }] }),
        { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } }, rewrite({ type: 'ReplaceFullPath', replaceFullPath: '/' }), mirror({}),
      ],
      backendRefs: toV2,
    },
    filters: ['route.cors', 'route.request_header_modifier', 'route.response_header_modifier', 'route.url_rewrite', 'route.request_mirror'],
  },
  { name: 'a redirect with no backendRefs', rule: { filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301 } }] }, filters: ['route.request_redirect'] },
  { name: 'backendRequest with request 0s (disabled)', rule: { timeouts: { request: '0s', backendRequest: '5s' }, backendRefs: toV2 }, filters: [] },
];

for (const c of validCases) {
  test(`valid: ${c.name}`, () => {
    const r = run([c.rule]);
    assert.deepEqual(short(conditions(r)), [ACCEPTED, REFS]);
    assert.ok(r.ok);
    const http = r.snapshot.services.get('apps/web')?.ports[0]?.http;
    assert.ok(http?.kind === 'routes');
    assert.deepEqual(http.producer[0]?.filters.map((f) => f.name), c.filters);
  });
}

const policyCases: ReadonlyArray<{ readonly name: string; readonly rule: Obj; readonly want: Obj | undefined }> = [
  { name: 'neither timeouts nor retry: none compiled (defaults apply)', rule: {}, want: undefined },
  { name: 'request timeout only, default retries', rule: { timeouts: { request: '10s' } }, want: { requestTimeoutMs: 10_000, perTryTimeoutMs: 0, numRetries: 2, codes: [503], onPerTryTimeout: false } },
  { name: 'backendRequest without retry bounds the request (Istio)', rule: { timeouts: { request: '10s', backendRequest: '2s' } }, want: { requestTimeoutMs: 2000, perTryTimeoutMs: 0, numRetries: 2, codes: [503], onPerTryTimeout: false } },
  {
    name: 'backendRequest with retry is per attempt', rule: { timeouts: { request: '10s', backendRequest: '2s' }, retry: { codes: [500, 502], attempts: 3, backoff: '100ms' } },
    want: { requestTimeoutMs: 10_000, perTryTimeoutMs: 2000, numRetries: 3, codes: [500, 502], onPerTryTimeout: true, backoff: 100 },
  },
  { name: 'retry without attempts: 2, without codes: none', rule: { retry: {} }, want: { requestTimeoutMs: 0, perTryTimeoutMs: 0, numRetries: 2, codes: [], onPerTryTimeout: true, backoff: 25 } },
  { name: 'attempts 0 disables retries', rule: { retry: { attempts: 0, codes: [503] } }, want: { numRetries: 0 } },
];

for (const c of policyCases) {
  test(`policy: ${c.name}`, () => {
    const [action] = actions(run([{ ...c.rule, backendRefs: toV2 }]));
    assert.ok(action?.kind === 'forward');
    const p = action.policy;
    if (c.want === undefined) return assert.equal(p, undefined);
    assert.ok(p !== undefined);
    const got: Record<string, unknown> = {
      requestTimeoutMs: p.requestTimeoutMs, perTryTimeoutMs: p.perTryTimeoutMs, numRetries: p.retry.numRetries,
      codes: [...p.retry.statusCodes], onPerTryTimeout: p.retry.onPerTryTimeout, backoff: p.retry.backoffBaseMs,
    };
    for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k], v, k);
  });
}

test('sessionPersistence is reported as not applied (Istio ignores it too); the rule still routes', () => {
  const r = run([{ sessionPersistence: { sessionName: 's' }, backendRefs: toV2 }]);
  assert.deepEqual(short(conditions(r)), [ACCEPTED, REFS]);
  assert.ok(r.diagnostics.some((d) => d.severity === 'warning' && d.code === 'not-yet-applied' && d.path === 'spec.rules[0].sessionPersistence'));
  assert.equal(actions(r)[0]?.kind, 'forward');
});
