// Conformance, part 4: the CORS filter (HTTPRouteCORS), re-expressed from conformance/tests/httproute-cors*
// for a mesh route: preflights answered by the waypoint (never forwarded), actual requests forwarded with
// the CORS response headers added.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConformanceMesh, type ExpectedResponse, expectResponse, meshRoute } from './fixture.js';

const toV1 = '    backendRefs:\n    - name: echo-v1\n      port: 80';

const ROUTES = meshRoute('cors', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /cors-1 } }]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["https://www.foo.com", "https://*.bar.com"]
        allowMethods: [GET, OPTIONS]
        allowHeaders: [x-header-1, x-header-2]
        exposeHeaders: [x-header-3, x-header-4]
        allowCredentials: true
        maxAge: 3600
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /cors-2 } }]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["https://www.foo.com"]
        allowMethods: ["*"]
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /cors-wildcard-origin } }]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["*"]
        allowMethods: [PUT]
${toV1}
  - matches: [{ path: { type: Exact, value: /cors-wildcard-methods-headers } }]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["https://*.foo.com"]
        allowMethods: ["*"]
        allowHeaders: ["*"]
        allowCredentials: true
${toV1}
  - matches: [{ path: { type: Exact, value: /cors-wildcard-methods-headers-unauth } }]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["https://*.foo.com"]
        allowMethods: ["*"]
        allowHeaders: ["*"]
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /cors-port } }]
    filters:
    - type: CORS
      cors:
        allowOrigins: ["http://app.example.com:8080"]
${toV1}`);

let cm: ConformanceMesh;

before(async () => {
  cm = await ConformanceMesh.start(ROUTES);
});

after(async () => {
  await cm.close();
});

const F = 'HTTPRouteCORS';
const preflight = (path: string, origin: string, method: string, headers?: string): ExpectedResponse['request'] => ({
  path, method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': method, ...(headers === undefined ? {} : { 'access-control-request-headers': headers }) },
});

const cases: Array<ExpectedResponse & { readonly forwarded: boolean }> = [
  {
    name: 'preflight from an exact origin is answered with every CORS header', feature: F, forwarded: false,
    request: preflight('/cors-1', 'https://www.foo.com', 'GET', 'x-header-1, x-header-2'), status: 200,
    responseHeaders: {
      'access-control-allow-origin': 'https://www.foo.com', 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'x-header-1, x-header-2',
      'access-control-expose-headers': 'x-header-3, x-header-4', 'access-control-max-age': '3600', 'access-control-allow-credentials': 'true',
    },
  },
  {
    name: 'preflight from a wildcard origin', feature: F, forwarded: false, request: preflight('/cors-1', 'https://www.bar.com', 'GET', 'x-header-1, x-header-2'), status: 200,
    responseHeaders: { 'access-control-allow-origin': 'https://www.bar.com', 'access-control-allow-credentials': 'true' },
  },
  {
    name: 'the wildcard spans any number of labels to its left', feature: F, forwarded: false, request: preflight('/cors-1', 'https://xpto.www.bar.com', 'GET'), status: 200,
    responseHeaders: { 'access-control-allow-origin': 'https://xpto.www.bar.com' },
  },
  {
    name: 'the wildcard does not match the bare domain', feature: F, forwarded: false, request: preflight('/cors-1', 'https://bar.com', 'GET'), status: 200,
    absentResponseHeaders: ['access-control-allow-origin'],
  },
  {
    name: 'preflight from a non-matching origin: 200 without CORS headers', feature: F, forwarded: false, request: preflight('/cors-1', 'https://foobar.com', 'GET'), status: 200,
    absentResponseHeaders: ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-credentials'],
  },
  {
    name: 'the scheme is part of the origin', feature: F, forwarded: false, request: preflight('/cors-1', 'http://www.foo.com', 'GET'), status: 200,
    absentResponseHeaders: ['access-control-allow-origin'],
  },
  {
    name: 'simple request from an exact origin gets allow-origin and credentials', feature: F, forwarded: true,
    request: { path: '/cors-1', headers: { origin: 'https://www.foo.com' } }, backend: 'echo-v1',
    responseHeaders: { 'access-control-allow-origin': 'https://www.foo.com', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-header-3, x-header-4' },
  },
  {
    name: 'simple request from a non-matching origin gets no CORS headers', feature: F, forwarded: true,
    request: { path: '/cors-1', headers: { origin: 'https://foobar.com' } }, backend: 'echo-v1', absentResponseHeaders: ['access-control-allow-origin'],
  },
  {
    name: 'allowMethods * without credentials: the requested method (or *)', feature: F, forwarded: false, request: preflight('/cors-2', 'https://www.foo.com', 'POST'), status: 200,
    responseHeaders: { 'access-control-allow-origin': 'https://www.foo.com', 'access-control-allow-methods': 'POST', 'access-control-max-age': '5' },
    absentResponseHeaders: ['access-control-allow-credentials'],
  },
  {
    name: 'allowOrigins *: any origin, with a port too', feature: F, forwarded: false, request: preflight('/cors-wildcard-origin', 'https://foobar.com:12345', 'PUT'), status: 200,
    responseHeaders: { 'access-control-allow-origin': 'https://foobar.com:12345', 'access-control-allow-methods': 'PUT' }, absentResponseHeaders: ['access-control-allow-credentials'],
  },
  {
    name: 'allowOrigins *: actual request', feature: F, forwarded: true, request: { path: '/cors-wildcard-origin', method: 'PUT', headers: { origin: 'https://foobar.com' } },
    backend: 'echo-v1', responseHeaders: { 'access-control-allow-origin': 'https://foobar.com' }, absentResponseHeaders: ['access-control-allow-credentials'],
  },
  {
    name: 'wildcards with credentials echo the requested method and headers, never *', feature: F, forwarded: false,
    request: preflight('/cors-wildcard-methods-headers', 'https://other.foo.com', 'PUT', 'x-header-1, x-header-2'), status: 200,
    responseHeaders: { 'access-control-allow-origin': 'https://other.foo.com', 'access-control-allow-methods': 'PUT', 'access-control-allow-headers': 'x-header-1, x-header-2', 'access-control-allow-credentials': 'true' },
  },
  {
    name: 'wildcards without credentials: no allow-credentials', feature: F, forwarded: false,
    request: preflight('/cors-wildcard-methods-headers-unauth', 'https://other.foo.com', 'PUT', 'x-header-1, x-header-2'), status: 200,
    responseHeaders: { 'access-control-allow-origin': 'https://other.foo.com' }, absentResponseHeaders: ['access-control-allow-credentials'],
  },
  {
    name: 'request with a cookie on a credentials route: origin echoed, credentials allowed', feature: F, forwarded: true,
    request: { path: '/cors-wildcard-methods-headers', headers: { origin: 'https://other.foo.com', cookie: 'foo=bar' } }, backend: 'echo-v1',
    responseHeaders: { 'access-control-allow-origin': 'https://other.foo.com', 'access-control-allow-credentials': 'true' },
  },
  {
    name: 'request with a cookie on an unauth route: no allow-credentials', feature: F, forwarded: true,
    request: { path: '/cors-wildcard-methods-headers-unauth', headers: { origin: 'https://other.foo.com', cookie: 'foo=bar' } }, backend: 'echo-v1',
    responseHeaders: { 'access-control-allow-origin': 'https://other.foo.com' }, absentResponseHeaders: ['access-control-allow-credentials'],
  },
  {
    name: 'an explicit port must match (default ports are implied)', feature: F, forwarded: false, request: preflight('/cors-port', 'http://app.example.com:8080', 'GET'), status: 200,
    responseHeaders: { 'access-control-allow-origin': 'http://app.example.com:8080', 'access-control-max-age': '5' },
  },
  {
    name: 'another port does not match', feature: F, forwarded: false, request: preflight('/cors-port', 'http://app.example.com', 'GET'), status: 200,
    absentResponseHeaders: ['access-control-allow-origin'],
  },
  {
    name: 'an OPTIONS request that is not a preflight is forwarded', feature: F, forwarded: true,
    request: { path: '/cors-1', method: 'OPTIONS', headers: { origin: 'https://www.foo.com' } }, backend: 'echo-v1', responseHeaders: { 'access-control-allow-origin': 'https://www.foo.com' },
  },
];

for (const c of cases) {
  test(`${c.feature}: ${c.name}`, async () => {
    const before = cm.pod('echo-v1').log.length;
    await expectResponse(cm, c);
    assert.equal(cm.pod('echo-v1').log.length - before, c.forwarded ? 1 : 0, c.forwarded ? 'forwarded' : 'a preflight is never forwarded');
  });
}
