import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeaderList } from '../../http/header-list.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import { PathModifier } from './path-modifier.js';
import { type RedirectConfig, RequestRedirectFilter } from './request-redirect.js';

/** The parts of an exchange the filter reads. */
function exchange(host: string | undefined, path: string, listenerPort: number): HttpExchange {
  return {
    path,
    requestHeaders: new HeaderList(host === undefined ? [] : ['host', host]),
    listener: { port: listenerPort, service: { hostname: 'svc.ns.svc.cluster.local' } },
  } as unknown as HttpExchange;
}

const none: RedirectConfig = { scheme: undefined, hostname: undefined, port: undefined, path: undefined, statusCode: 302 };

const cases = [
  { name: 'nothing set: same URL on the listener port (80 omitted)', cfg: none, host: 'echo', path: '/a?b=1', port: 80, want: 'http://echo/a?b=1' },
  { name: 'listener port other than 80 is written', cfg: none, host: 'echo:8080', path: '/a', port: 8080, want: 'http://echo:8080/a' },
  { name: 'scheme https: port 443, omitted', cfg: { ...none, scheme: 'https' as const }, host: 'echo:8080', path: '/', port: 8080, want: 'https://echo/' },
  { name: 'scheme http: port 80, omitted', cfg: { ...none, scheme: 'http' as const }, host: 'echo:8080', path: '/', port: 8080, want: 'http://echo/' },
  { name: 'scheme https with port 8443', cfg: { ...none, scheme: 'https' as const, port: 8443 }, host: 'echo', path: '/', port: 80, want: 'https://echo:8443/' },
  { name: 'scheme https with port 80 keeps it', cfg: { ...none, scheme: 'https' as const, port: 80 }, host: 'echo', path: '/', port: 80, want: 'https://echo:80/' },
  { name: 'hostname replaces the Host (and its port)', cfg: { ...none, hostname: 'example.org' }, host: 'echo:80', path: '/x', port: 80, want: 'http://example.org/x' },
  { name: 'an IPv6 Host keeps its brackets', cfg: { ...none, port: 9000 }, host: '[::1]:80', path: '/', port: 80, want: 'http://[::1]:9000/' },
  { name: 'no Host header: the Service hostname', cfg: none, host: undefined, path: '/', port: 80, want: 'http://svc.ns.svc.cluster.local/' },
  { name: 'ReplaceFullPath keeps the query', cfg: { ...none, path: PathModifier.fullPath('/new') }, host: 'echo', path: '/old/x?q=1', port: 80, want: 'http://echo/new?q=1' },
  { name: 'ReplacePrefixMatch', cfg: { ...none, path: PathModifier.prefixMatch('/v2', '/v1') }, host: 'echo', path: '/v1/items', port: 80, want: 'http://echo/v2/items' },
];

for (const c of cases) {
  test(`RequestRedirect Location: ${c.name}`, () => {
    assert.equal(new RequestRedirectFilter(c.cfg).location(exchange(c.host, c.path, c.port)), c.want);
  });
}

test('RequestRedirect answers with the configured status, a Location and no body', () => {
  const reply = new RequestRedirectFilter({ ...none, statusCode: 308 }).onRequestHeaders(exchange('echo', '/', 80));
  assert.deepEqual([reply.status, reply.body, reply.headers, reply.details, reply.flag], [308, '', ['location', 'http://echo/'], 'direct_response', undefined]);
});
