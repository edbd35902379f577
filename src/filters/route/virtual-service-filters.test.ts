// VirtualService route filters on hand-built exchanges: redirect locations (uri, authority, port, derivePort,
// scheme), rewrites (prefix, full, regex with groups), CORS (IGNORE vs FORWARD), fault dice, and VS matching.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileVirtualServiceMatch, stringTest } from '../../config/compile/virtual-services-match.js';
import type { HTTPMatchRequest } from '../../config/model/virtual-service.js';
import { HeaderList } from '../../http/header-list.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import { RequestView } from '../../router/request-view.js';
import { FaultInjectionFilter } from './fault-injection.js';
import { VirtualServiceCorsFilter } from './virtual-service-cors.js';
import { type VirtualServiceRedirectConfig, VirtualServiceRedirectFilter } from './virtual-service-redirect.js';
import { jsSubstitution, type PathRewrite, rewritePath } from './virtual-service-rewrite.js';

function exchange(host: string | undefined, path: string, listenerPort = 80, method = 'GET', headers: Record<string, string> = {}): HttpExchange {
  return {
    path, method, done: false, flag: undefined,
    req: { headers },
    requestHeaders: new HeaderList(host === undefined ? [] : ['host', host]),
    listener: { port: listenerPort, service: { hostname: 'svc.ns.svc.cluster.local' } },
  } as unknown as HttpExchange;
}

const base: VirtualServiceRedirectConfig = { uri: undefined, authority: undefined, port: undefined, scheme: undefined, code: 301 };
const redirects: Array<{ name: string; cfg: VirtualServiceRedirectConfig; host: string; path: string; port?: number; want: string }> = [
  { name: 'uri replaces the whole path, the query is kept', cfg: { ...base, uri: '/new' }, host: 'echo', path: '/old/x?q=1', want: 'http://echo/new?q=1' },
  { name: 'a uri with its own query replaces the query', cfg: { ...base, uri: '/new?a=b' }, host: 'echo', path: '/old?q=1', want: 'http://echo/new?a=b' },
  { name: 'the Host port is kept when nothing changes it', cfg: { ...base, uri: '/n' }, host: 'echo:8080', path: '/', port: 8080, want: 'http://echo:8080/n' },
  { name: 'authority replaces host and port', cfg: { ...base, authority: 'other.example' }, host: 'echo:8080', path: '/p', port: 8080, want: 'http://other.example/p' },
  { name: 'port replaces the port', cfg: { ...base, port: 9000 }, host: 'echo', path: '/p', want: 'http://echo:9000/p' },
  { name: 'derivePort FROM_REQUEST_PORT: the Service port called', cfg: { ...base, port: 'request' }, host: 'echo', path: '/p', port: 9080, want: 'http://echo:9080/p' },
  { name: 'scheme https drops the default port 80', cfg: { ...base, scheme: 'https' }, host: 'echo:80', path: '/p', want: 'https://echo/p' },
  { name: 'scheme https with port 8443', cfg: { ...base, scheme: 'https', port: 8443 }, host: 'echo', path: '/p', want: 'https://echo:8443/p' },
];
for (const c of redirects) {
  test(`VS redirect: ${c.name}`, () => {
    assert.equal(new VirtualServiceRedirectFilter(c.cfg).location(exchange(c.host, c.path, c.port)), c.want);
  });
}

const rewrites: Array<{ name: string; rule: PathRewrite; path: string; want: string }> = [
  { name: 'prefix: the matched prefix is replaced', rule: { kind: 'prefix', length: 4, replacement: '/new' }, path: '/old/a', want: '/new/a' },
  { name: 'prefix without a URI match replaces "/"', rule: { kind: 'prefix', length: 1, replacement: '/v2/' }, path: '/items', want: '/v2/items' },
  { name: 'full: exact and regex matches replace the whole path', rule: { kind: 'full', replacement: '/x' }, path: '/anything/else', want: '/x' },
  { name: 'regex: every match, groups as \\1', rule: { kind: 'regex', regex: /a(\d)/gu, substitution: jsSubstitution('b\\1') }, path: '/a1/a2', want: '/b1/b2' },
  { name: 'regex: a literal $ in the substitution stays', rule: { kind: 'regex', regex: /x/gu, substitution: jsSubstitution('$1') }, path: '/x', want: '/$1' },
];
for (const c of rewrites) {
  test(`VS rewrite: ${c.name}`, () => assert.equal(rewritePath(c.rule, c.path), c.want));
}

test('VS CORS: an unmatched preflight is forwarded by default and answered without CORS headers with IGNORE', () => {
  const cfg = { origins: [stringTest({ exact: 'https://ok.example' })], allowMethods: 'GET', allowHeaders: undefined, exposeHeaders: undefined, maxAge: undefined, allowCredentials: false };
  const preflight = exchange('h', '/', 80, 'OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'GET' });
  assert.equal(new VirtualServiceCorsFilter({ ...cfg, unmatchedPreflights: 'FORWARD' }).onRequestHeaders(preflight), undefined);
  const ignored = new VirtualServiceCorsFilter({ ...cfg, unmatchedPreflights: 'IGNORE' }).onRequestHeaders(preflight);
  assert.equal(ignored?.status, 200);
  assert.deepEqual(ignored?.headers, []);
});

test('VS fault: the dice decide per request; 0% never, 100% always', () => {
  const abort = (perMillion: number, roll: number): number | undefined => {
    const f = new FaultInjectionFilter({ delay: undefined, abort: { status: 503, grpcStatus: undefined, perMillion }, random: () => roll });
    const out = f.onRequestHeaders(exchange('h', '/'));
    return out instanceof Promise || out === undefined ? undefined : out.status;
  };
  assert.equal(abort(0, 0), undefined);
  assert.equal(abort(1_000_000, 0.999), 503);
  assert.equal(abort(500_000, 0.49), 503);
  assert.equal(abort(500_000, 0.51), undefined);
});

const view = (path: string, headers: Record<string, string> = {}, method = 'GET'): RequestView => new RequestView(method, path, headers);
const matches: Array<{ name: string; m: HTTPMatchRequest; req: RequestView; want: boolean }> = [
  { name: 'prefix is a plain string prefix', m: { uri: { prefix: '/foo' } }, req: view('/foobar'), want: true },
  { name: 'ignoreUriCase on exact', m: { uri: { exact: '/Foo' }, ignoreUriCase: true }, req: view('/fOO'), want: true },
  { name: 'exact is case-sensitive by default', m: { uri: { exact: '/Foo' } }, req: view('/foo'), want: false },
  { name: 'regex full match', m: { uri: { regex: '/a+' } }, req: view('/aab'), want: false },
  { name: 'header {} means present', m: { headers: { 'x-a': {} } }, req: view('/', { 'x-a': '' }), want: true },
  { name: 'withoutHeaders value: a different value matches', m: { withoutHeaders: { 'x-a': { exact: 'no' } } }, req: view('/', { 'x-a': 'yes' }), want: true },
  { name: 'withoutHeaders value: the value excluded does not match', m: { withoutHeaders: { 'x-a': { exact: 'no' } } }, req: view('/', { 'x-a': 'no' }), want: false },
  { name: 'authority matches the Host header', m: { authority: { prefix: 'api.' } }, req: view('/', { host: 'api.example' }), want: true },
  { name: 'scheme https never matches plaintext mesh traffic', m: { scheme: { exact: 'https' } }, req: view('/'), want: false },
  { name: 'scheme http always matches', m: { scheme: { exact: 'http' } }, req: view('/'), want: true },
  { name: 'method regex', m: { method: { regex: 'GET|HEAD' } }, req: view('/', {}, 'HEAD'), want: true },
  { name: 'query prefix', m: { queryParams: { v: { prefix: 'be' } } }, req: view('/?v=beta'), want: true },
  { name: 'query absent', m: { queryParams: { v: {} } }, req: view('/?w=1'), want: false },
];
for (const c of matches) {
  test(`VS match: ${c.name}`, () => assert.equal(compileVirtualServiceMatch(c.m).test(c.req), c.want));
}
