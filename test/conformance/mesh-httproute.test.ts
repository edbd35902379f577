// Conformance (mesh profile), part 1: matching, precedence across routes, header modifiers, redirects,
// rewrites, parentRef ports, invalid backends and weights, re-expressed from the Gateway API suite
// (conformance/tests/mesh/*) and run against a real waypoint over loopback sockets.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConformanceMesh, type ExpectedResponse, expectResponse, meshRoute } from './fixture.js';

const backend = (name: string, port = 80, weight?: number): string =>
  `    - name: ${name}\n      port: ${port}${weight === undefined ? '' : `\n      weight: ${weight}`}`;

const ROUTES = [
  // MeshHTTPRouteMatching + HTTPRouteQueryParamMatching + HTTPRouteMethodMatching.
  meshRoute('mesh-matching', 'echo', `  - matches:
    - path: { type: PathPrefix, value: / }
    backendRefs:
${backend('echo-v1')}
  - matches:
    - headers: [{ name: version, value: two }]
    backendRefs:
${backend('echo-v2')}
  - matches:
    - path: { type: Exact, value: /match/exact }
    - path: { type: PathPrefix, value: /match/query }
      queryParams: [{ name: animal, value: whale }]
    - path: { type: PathPrefix, value: /match/method }
      method: POST
    backendRefs:
${backend('echo-v2')}`),
  // HTTPRoute precedence across routes: the older route wins a tie; Exact beats any prefix.
  meshRoute('precedence-old', 'echo', `  - matches:
    - path: { type: PathPrefix, value: /precedence }
    backendRefs:
${backend('echo-v1')}`, { created: '2023-01-01T00:00:00Z' }),
  meshRoute('precedence-new', 'echo', `  - matches:
    - path: { type: PathPrefix, value: /precedence }
    backendRefs:
${backend('echo-v2')}
  - matches:
    - path: { type: Exact, value: /precedence/exact }
    backendRefs:
${backend('echo-v2')}`, { created: '2024-01-01T00:00:00Z' }),
  // MeshHTTPRouteRequestHeaderModifier.
  meshRoute('request-header-modifier', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /set } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{ name: X-Header-Set, value: set-overwrites-values }]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /add } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        add: [{ name: X-Header-Add, value: add-appends-values }]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /remove } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        remove: [X-Header-Remove]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /multiple } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{ name: X-Header-Set-1, value: header-set-1 }, { name: X-Header-Set-2, value: header-set-2 }]
        add: [{ name: X-Header-Add-1, value: header-add-1 }, { name: X-Header-Add-2, value: header-add-2 }, { name: X-Header-Add-3, value: header-add-3 }]
        remove: [X-Header-Remove-1, X-Header-Remove-2]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /case-insensitivity } }]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{ name: X-Header-Set, value: header-set }]
        add: [{ name: x-header-add, value: header-add }]
        remove: [X-Header-Remove]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /backend-filters } }]
    backendRefs:
    - name: echo-v1
      port: 80
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: { set: [{ name: X-Backend-Filter, value: v1 }] }
      - type: ResponseHeaderModifier
        responseHeaderModifier: { add: [{ name: X-Picked, value: echo-v1 }] }`),
  // HTTPRouteResponseHeaderModification.
  meshRoute('response-header-modifier', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /response-headers } }]
    filters:
    - type: ResponseHeaderModifier
      responseHeaderModifier:
        set: [{ name: X-Header-Set, value: set-overwrites-values }]
        add: [{ name: X-Header-Add, value: add-appends-values }]
        remove: [X-Header-Remove]
    backendRefs:
${backend('echo-v1')}`),
  // MeshHTTPRouteRedirect{Scheme,HostAndStatus,Port,Path} and 303/307/308.
  meshRoute('redirects', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /scheme } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: https } }]
  - matches: [{ path: { type: PathPrefix, value: /scheme-and-host } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, hostname: example.org } }]
  - matches: [{ path: { type: PathPrefix, value: /scheme-and-status } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, statusCode: 301 } }]
  - matches: [{ path: { type: PathPrefix, value: /scheme-http-on-443 } }]
    filters: [{ type: RequestRedirect, requestRedirect: { scheme: http, port: 443 } }]
  - matches: [{ path: { type: PathPrefix, value: /hostname-redirect } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org } }]
  - matches: [{ path: { type: PathPrefix, value: /host-and-status } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, statusCode: 301 } }]
  - matches: [{ path: { type: PathPrefix, value: /status-303 } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, statusCode: 303 } }]
  - matches: [{ path: { type: PathPrefix, value: /status-307 } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, statusCode: 307 } }]
  - matches: [{ path: { type: PathPrefix, value: /status-308 } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, statusCode: 308 } }]
  - matches: [{ path: { type: PathPrefix, value: /port } }]
    filters: [{ type: RequestRedirect, requestRedirect: { port: 8083 } }]
  - matches: [{ path: { type: PathPrefix, value: /port-and-host } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, port: 8083 } }]
  - matches: [{ path: { type: PathPrefix, value: /port-default-http } }]
    filters: [{ type: RequestRedirect, requestRedirect: { port: 80 } }]
  - matches: [{ path: { type: PathPrefix, value: /original-prefix } }]
    filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix } } }]
  - matches: [{ path: { type: PathPrefix, value: /full } }]
    filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /full-path-replacement } } }]
  - matches: [{ path: { type: PathPrefix, value: /path-and-host } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, path: { type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix } } }]
  - matches: [{ path: { type: PathPrefix, value: /redirect-with-header } }]
    filters:
    - { type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Redirected, value: "yes" }] } }
    - { type: RequestRedirect, requestRedirect: { hostname: example.org } }`),
  // The same scheme-less redirect reached on Service port 8080: "the Gateway Listener port" is kept.
  meshRoute('redirect-listener-port', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /listener-port } }]
    filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org } }]`, { port: 8080 }),
  // MeshHTTPRouteRewritePath + HTTPRouteHostRewrite.
  meshRoute('rewrites', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /prefix/one } }]
    filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /one } } }]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /strip-prefix } }]
    filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: / } } }]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /full/one } }]
    filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /one } } }]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /full/rewrite-path-and-modify-headers } }]
    filters:
    - type: URLRewrite
      urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /test } }
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{ name: X-Header-Set, value: set-overwrites-values }]
        add: [{ name: X-Header-Add, value: header-val-1 }, { name: X-Header-Add-Append, value: header-val-2 }]
        remove: [X-Header-Remove]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /rewrite-host } }]
    filters: [{ type: URLRewrite, urlRewrite: { hostname: one.example.org } }]
    backendRefs:
${backend('echo-v1')}
  - matches: [{ path: { type: PathPrefix, value: /rewrite-host-and-path } }]
    filters: [{ type: URLRewrite, urlRewrite: { hostname: two.example.org, path: { type: ReplacePrefixMatch, replacePrefixMatch: /v2 } } }]
    backendRefs:
${backend('echo-v1')}`),
  // HTTPRoute invalid backends: missing Service, unsupported kind, 0 weight everywhere.
  meshRoute('invalid-backends', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /invalid/missing } }]
    backendRefs:
${backend('does-not-exist')}
  - matches: [{ path: { type: PathPrefix, value: /invalid/kind } }]
    backendRefs:
    - { group: example.com, kind: Bucket, name: echo-v1, port: 80 }
  - matches: [{ path: { type: PathPrefix, value: /invalid/zero-weight } }]
    backendRefs:
${backend('echo-v1', 80, 0)}
  - matches: [{ path: { type: PathPrefix, value: /invalid/half } }]
    backendRefs:
${backend('echo-v1', 80, 1)}
${backend('does-not-exist', 80, 1)}`),
  // MeshHTTPRouteWeight (statistical, below) and MeshPorts: a route for port 80 only, one for every port.
  meshRoute('weights', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /weights } }]
    backendRefs:
${backend('echo-v1', 80, 70)}
${backend('echo-v2', 80, 30)}`),
  meshRoute('mesh-ports-v1', 'echo-v1', `  - filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Header-Set, value: v1 }] } }]
    backendRefs:
${backend('echo-v1')}`, { port: 80 }),
  meshRoute('mesh-ports-v2', 'echo-v2', `  - name: all-ports
    filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: X-Header-Set, value: v2 }] } }]
    backendRefs:
${backend('echo-v2')}`),
].join('');

let cm: ConformanceMesh;

before(async () => {
  cm = await ConformanceMesh.start(ROUTES);
});

after(async () => {
  await cm.close();
});

const cases: ExpectedResponse[] = [
  // Matching.
  { name: 'prefix / goes to v1', feature: 'MeshHTTPRouteMatching', request: { path: '/' }, backend: 'echo-v1' },
  { name: 'a header match beats prefix /', feature: 'MeshHTTPRouteMatching', request: { path: '/', headers: { version: 'two' } }, backend: 'echo-v2' },
  { name: 'header values are case-sensitive', feature: 'MeshHTTPRouteMatching', request: { path: '/', headers: { version: 'TWO' } }, backend: 'echo-v1' },
  { name: 'Exact path match', feature: 'MeshHTTPRouteMatching', request: { path: '/match/exact' }, backend: 'echo-v2' },
  { name: 'Exact does not match a trailing slash', feature: 'MeshHTTPRouteMatching', request: { path: '/match/exact/' }, backend: 'echo-v1' },
  { name: 'query param match', feature: 'HTTPRouteQueryParamMatching', request: { path: '/match/query?animal=whale' }, backend: 'echo-v2' },
  { name: 'query param mismatch falls through', feature: 'HTTPRouteQueryParamMatching', request: { path: '/match/query?animal=dolphin' }, backend: 'echo-v1' },
  { name: 'method match', feature: 'HTTPRouteMethodMatching', request: { path: '/match/method', method: 'POST' }, backend: 'echo-v2' },
  { name: 'method mismatch falls through', feature: 'HTTPRouteMethodMatching', request: { path: '/match/method' }, backend: 'echo-v1' },
  // Precedence across routes.
  { name: 'tie between routes: the oldest route wins', feature: 'HTTPRoute precedence', request: { path: '/precedence/x' }, backend: 'echo-v1' },
  { name: 'Exact beats prefix across routes, whatever their age', feature: 'HTTPRoute precedence', request: { path: '/precedence/exact' }, backend: 'echo-v2' },
  // RequestHeaderModifier.
  {
    name: 'set adds an absent header', feature: 'MeshHTTPRouteRequestHeaderModifier', request: { path: '/set', headers: { 'Some-Other-Header': 'val' } },
    backend: 'echo-v1', upstream: { headers: { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' } },
  },
  {
    name: 'set overwrites an existing header', feature: 'MeshHTTPRouteRequestHeaderModifier', request: { path: '/set', headers: { 'X-Header-Set': 'some-other-value' } },
    upstream: { headers: { 'X-Header-Set': 'set-overwrites-values' } },
  },
  {
    name: 'add appends to an existing header', feature: 'MeshHTTPRouteRequestHeaderModifier', request: { path: '/add', headers: { 'X-Header-Add': 'some-other-value' } },
    upstream: { headers: { 'X-Header-Add': 'some-other-value,add-appends-values' } },
  },
  { name: 'add creates an absent header', feature: 'MeshHTTPRouteRequestHeaderModifier', request: { path: '/add' }, upstream: { headers: { 'X-Header-Add': 'add-appends-values' } } },
  {
    name: 'remove drops the header', feature: 'MeshHTTPRouteRequestHeaderModifier', request: { path: '/remove', headers: { 'X-Header-Remove': 'val', 'Some-Other-Header': 'kept' } },
    upstream: { headers: { 'Some-Other-Header': 'kept' }, absentHeaders: ['X-Header-Remove'] },
  },
  {
    name: 'several sets, adds and removes at once', feature: 'MeshHTTPRouteRequestHeaderModifier',
    request: { path: '/multiple', headers: { 'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2', 'Another-Header': 'another-header-val' } },
    upstream: {
      headers: { 'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1', 'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val' },
      absentHeaders: ['X-Header-Remove-1', 'X-Header-Remove-2'],
    },
  },
  {
    name: 'header names are case-insensitive', feature: 'MeshHTTPRouteRequestHeaderModifier',
    request: { path: '/case-insensitivity', headers: { 'x-header-set': 'original-val-set', 'x-header-add': 'original-val-add', 'x-header-remove': 'original-val-remove' } },
    upstream: { headers: { 'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add' }, absentHeaders: ['x-header-remove'] },
  },
  {
    name: 'backendRef filters run for requests sent to that backend', feature: 'HTTPRoute backendRef filters',
    request: { path: '/backend-filters' }, backend: 'echo-v1', upstream: { headers: { 'X-Backend-Filter': 'v1' } }, responseHeaders: { 'X-Picked': 'echo-v1' },
  },
  // ResponseHeaderModifier.
  {
    name: 'response headers set, added and removed', feature: 'HTTPRouteResponseHeaderModification',
    request: { path: '/response-headers', headers: { 'x-echo-set-header': 'X-Header-Set:original,X-Header-Add:original,X-Header-Remove:gone,X-Kept:yes' } },
    responseHeaders: { 'X-Header-Set': 'set-overwrites-values', 'X-Header-Add': 'original, add-appends-values', 'X-Kept': 'yes' }, absentResponseHeaders: ['X-Header-Remove'],
  },
  // RequestRedirect: never forwarded; Location built per the spec's scheme/host/port/path rules.
  { name: 'scheme https drops the default port', feature: 'MeshHTTPRouteSchemeRedirect', request: { path: '/scheme' }, status: 302, location: 'https://echo/scheme' },
  { name: 'scheme and hostname', feature: 'MeshHTTPRouteSchemeRedirect', request: { path: '/scheme-and-host' }, status: 302, location: 'https://example.org/scheme-and-host' },
  { name: 'scheme and status 301', feature: 'MeshHTTPRouteSchemeRedirect', request: { path: '/scheme-and-status' }, status: 301, location: 'https://echo/scheme-and-status' },
  { name: 'scheme http with port 443 keeps the port', feature: 'MeshHTTPRouteSchemeRedirect', request: { path: '/scheme-http-on-443' }, status: 302, location: 'http://echo:443/scheme-http-on-443' },
  { name: 'hostname only, default status 302', feature: 'MeshHTTPRouteRedirectHostAndStatus', request: { path: '/hostname-redirect' }, status: 302, location: 'http://example.org/hostname-redirect' },
  { name: 'hostname and 301', feature: 'MeshHTTPRouteRedirectHostAndStatus', request: { path: '/host-and-status' }, status: 301, location: 'http://example.org/host-and-status' },
  { name: 'status 303', feature: 'HTTPRoute303RedirectStatusCode', request: { path: '/status-303' }, status: 303, location: 'http://example.org/status-303' },
  { name: 'status 307', feature: 'HTTPRoute307RedirectStatusCode', request: { path: '/status-307' }, status: 307, location: 'http://example.org/status-307' },
  { name: 'status 308', feature: 'HTTPRoute308RedirectStatusCode', request: { path: '/status-308' }, status: 308, location: 'http://example.org/status-308' },
  { name: 'port', feature: 'MeshHTTPRouteRedirectPort', request: { path: '/port' }, status: 302, location: 'http://echo:8083/port' },
  { name: 'port and hostname', feature: 'MeshHTTPRouteRedirectPort', request: { path: '/port-and-host' }, status: 302, location: 'http://example.org:8083/port-and-host' },
  { name: 'port 80 with http is omitted', feature: 'MeshHTTPRouteRedirectPort', request: { path: '/port-default-http' }, status: 302, location: 'http://echo/port-default-http' },
  { name: 'the port of the Host header is not kept', feature: 'MeshHTTPRouteSchemeRedirect', request: { path: '/scheme', host: 'echo:80' }, status: 302, location: 'https://echo/scheme' },
  {
    name: 'without scheme or port the listener (Service) port is used', feature: 'MeshHTTPRouteRedirectPort',
    request: { path: '/listener-port', port: 8080, host: 'echo:8080' }, status: 302, location: 'http://example.org:8080/listener-port',
  },
  { name: 'ReplacePrefixMatch', feature: 'MeshHTTPRouteRedirectPath', request: { path: '/original-prefix/lemon' }, status: 302, location: 'http://echo/replacement-prefix/lemon' },
  { name: 'ReplacePrefixMatch keeps the query', feature: 'MeshHTTPRouteRedirectPath', request: { path: '/original-prefix/lemon?color=yellow' }, status: 302, location: 'http://echo/replacement-prefix/lemon?color=yellow' },
  { name: 'ReplaceFullPath', feature: 'MeshHTTPRouteRedirectPath', request: { path: '/full/path/original' }, status: 302, location: 'http://echo/full-path-replacement' },
  {
    name: 'the rule\'s ResponseHeaderModifier applies to its redirect (as Envoy)', feature: 'HTTPRouteResponseHeaderModification',
    request: { path: '/redirect-with-header' }, status: 302, location: 'http://example.org/redirect-with-header', responseHeaders: { 'X-Redirected': 'yes' },
  },
  { name: 'path and hostname', feature: 'MeshHTTPRouteRedirectPath', request: { path: '/path-and-host' }, status: 302, location: 'http://example.org/replacement-prefix' },
  // URLRewrite.
  { name: 'ReplacePrefixMatch /prefix/one → /one', feature: 'MeshHTTPRouteRewritePath', request: { path: '/prefix/one/two' }, upstream: { path: '/one/two' } },
  { name: 'ReplacePrefixMatch with / strips the prefix', feature: 'MeshHTTPRouteRewritePath', request: { path: '/strip-prefix/three' }, upstream: { path: '/three' } },
  { name: 'stripping the whole path leaves /', feature: 'MeshHTTPRouteRewritePath', request: { path: '/strip-prefix' }, upstream: { path: '/' } },
  { name: 'ReplaceFullPath', feature: 'MeshHTTPRouteRewritePath', request: { path: '/full/one/two' }, upstream: { path: '/one' } },
  {
    name: 'rewrite and header modifier together', feature: 'MeshHTTPRouteRewritePath',
    request: { path: '/full/rewrite-path-and-modify-headers/test', headers: { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Set': 'set-val' } },
    upstream: { path: '/test', headers: { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' }, absentHeaders: ['X-Header-Remove'] },
  },
  { name: 'rewritten path keeps x-envoy-original-path', feature: 'MeshHTTPRouteRewritePath', request: { path: '/prefix/one/x?q=1' }, upstream: { path: '/one/x?q=1', headers: { 'x-envoy-original-path': '/prefix/one/x?q=1' } } },
  { name: 'hostname rewrite', feature: 'HTTPRouteHostRewrite', request: { path: '/rewrite-host' }, upstream: { host: 'one.example.org', path: '/rewrite-host' } },
  { name: 'hostname and path rewrite', feature: 'HTTPRouteHostRewrite', request: { path: '/rewrite-host-and-path/x' }, upstream: { host: 'two.example.org', path: '/v2/x' } },
  // Invalid backends.
  { name: 'missing backend Service: 500', feature: 'HTTPRouteInvalidBackendRef', request: { path: '/invalid/missing' }, status: 500 },
  { name: 'unsupported backend kind: 500', feature: 'HTTPRouteInvalidBackendRef', request: { path: '/invalid/kind' }, status: 500 },
  { name: 'all weights 0: 500', feature: 'HTTPRouteInvalidBackendRef', request: { path: '/invalid/zero-weight' }, status: 500 },
  // MeshPorts.
  { name: 'parentRef port 80: the route applies on port 80', feature: 'HTTPRouteParentRefPort', request: { service: 'echo-v1', path: '/' }, backend: 'echo-v1', responseHeaders: { 'X-Header-Set': 'v1' } },
  { name: 'parentRef port 80: not on port 8080', feature: 'HTTPRouteParentRefPort', request: { service: 'echo-v1', port: 8080, path: '/' }, backend: 'echo-v1', absentResponseHeaders: ['X-Header-Set'] },
  { name: 'no parentRef port: every port', feature: 'HTTPRouteParentRefPort', request: { service: 'echo-v2', port: 8080, path: '/' }, backend: 'echo-v2', responseHeaders: { 'X-Header-Set': 'v2' } },
];

for (const c of cases) {
  test(`${c.feature}: ${c.name}`, async () => {
    const before = c.location === undefined ? 0 : totalRequests();
    await expectResponse(cm, c);
    // A redirect is answered by the waypoint itself: no backend saw the request.
    if (c.location !== undefined) assert.equal(totalRequests(), before, 'a redirected request must not be forwarded');
  });
}

function totalRequests(): number {
  let n = 0;
  for (const p of cm.pods.values()) n += p.log.length;
  return n;
}

test('HTTPRouteInvalidBackendRef: one of two equal backends invalid gets about half the requests a 500', async () => {
  const statuses = { ok: 0, err: 0 };
  for (let i = 0; i < 200; i++) {
    const r = await cm.call({ path: '/invalid/half' });
    if (r.status === 200) statuses.ok++;
    else if (r.status === 500) statuses.err++;
  }
  assert.equal(statuses.ok + statuses.err, 200);
  // Binomial(200, 0.5): ±4.3 standard deviations.
  assert.ok(statuses.err > 70 && statuses.err < 130, `500s: ${statuses.err} of 200`);
});

test('MeshHTTPRouteWeight: a 70/30 split is honoured within tolerance', async () => {
  const counts = new Map<string, number>();
  const n = 400;
  for (let i = 0; i < n; i++) {
    const r = await cm.call({ path: '/weights' });
    assert.equal(r.status, 200);
    const b = r.echo?.backend ?? '?';
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const v1 = counts.get('echo-v1') ?? 0;
  // Binomial(400, 0.7) has a standard deviation of 9.2: accept ±4 of them.
  assert.ok(Math.abs(v1 - 280) <= 37, `echo-v1 got ${v1} of ${n} (expected ~280)`);
  assert.equal(v1 + (counts.get('echo-v2') ?? 0), n);
});

test('MeshBasic: a Service without routes reaches its pods', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5; i++) seen.add((await cm.call({ service: 'infra-backend-v1', path: '/', port: 8080 })).echo?.backend ?? '?');
  assert.deepEqual([...seen], ['infra-backend-v1']);
});
