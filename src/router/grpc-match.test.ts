import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grpcRouteMatch, type GRPCRouteMatch } from '../config/model/grpc-route.js';
import { compileGrpcRouteMatch } from './grpc-match.js';
import { compareGrpcRank, grpcRankOf } from './grpc-precedence.js';
import { RequestView } from './request-view.js';

const m = (raw: unknown): GRPCRouteMatch => grpcRouteMatch.parse(raw);

const cases: ReadonlyArray<{ name: string; match: unknown; path: string; headers?: Record<string, string>; want: boolean }> = [
  { name: 'service+method Exact', match: { method: { service: 'pkg.Svc', method: 'Get' } }, path: '/pkg.Svc/Get', want: true },
  { name: 'service+method Exact, other method', match: { method: { service: 'pkg.Svc', method: 'Get' } }, path: '/pkg.Svc/Put', want: false },
  { name: 'service+method Exact is case-sensitive', match: { method: { service: 'pkg.Svc', method: 'Get' } }, path: '/pkg.svc/Get', want: false },
  { name: 'service only', match: { method: { service: 'pkg.Svc' } }, path: '/pkg.Svc/Anything', want: true },
  { name: 'service only is not a string prefix', match: { method: { service: 'pkg.Svc' } }, path: '/pkg.SvcX/Get', want: false },
  { name: 'method only', match: { method: { method: 'Get' } }, path: '/any.Service/Get', want: true },
  { name: 'method only, other method', match: { method: { method: 'Get' } }, path: '/any.Service/GetAll', want: false },
  { name: 'method only: the service is exactly one path segment', match: { method: { method: 'Get' } }, path: '/a/b/Get', want: false },
  { name: 'regex service', match: { method: { type: 'RegularExpression', service: 'pkg\\.S.*' } }, path: '/pkg.Store/List', want: true },
  { name: 'regex service must match fully', match: { method: { type: 'RegularExpression', service: 'pkg' } }, path: '/pkg.Store/List', want: false },
  { name: 'regex alternation stays inside its half', match: { method: { type: 'RegularExpression', service: 'a|b', method: 'Get' } }, path: '/b/Get', want: true },
  { name: 'regex alternation does not leak into the path', match: { method: { type: 'RegularExpression', service: 'a|b', method: 'Get' } }, path: '/a', want: false },
  { name: 'header Exact', match: { headers: [{ name: 'X-Tenant', value: 'blue' }] }, path: '/s/m', headers: { 'x-tenant': 'blue' }, want: true },
  { name: 'header Exact mismatch', match: { headers: [{ name: 'x-tenant', value: 'blue' }] }, path: '/s/m', headers: { 'x-tenant': 'red' }, want: false },
  { name: 'no method: every call', match: {}, path: '/x.Y/Z', want: true },
];
for (const c of cases) {
  test(`match: ${c.name}`, () => {
    const compiled = compileGrpcRouteMatch(m(c.match));
    assert.ok(compiled.ok);
    assert.equal(compiled.match.test(new RequestView('POST', c.path, c.headers ?? {})), c.want);
  });
}

const invalid: ReadonlyArray<{ name: string; match: unknown; field: string }> = [
  { name: 'neither service nor method', match: { method: { type: 'Exact' } }, field: 'method' },
  { name: 'Exact service with a slash', match: { method: { service: 'a/b' } }, field: 'service' },
  { name: 'Exact method with a dot', match: { method: { service: 'a', method: 'b.c' } }, field: 'method' },
];
for (const c of invalid) {
  test(`schema rejects ${c.name}`, () => {
    const r = grpcRouteMatch.safeParse(c.match);
    assert.equal(r.success, false);
    assert.ok(r.error?.issues.some((i) => i.path.includes(c.field) || i.path.join('.') === 'method'));
  });
}

test('an invalid RegularExpression is reported on its own field', () => {
  const r = compileGrpcRouteMatch(m({ method: { type: 'RegularExpression', service: 'ok', method: '(' } }));
  assert.equal(r.ok, false);
  assert.deepEqual(!r.ok && r.path, ['method', 'method']);
});

// GRPCRouteRule precedence: service chars, then method chars, then header count, then route age/name, then rule order.
const owner = (key: string, created = 0): { created: number; seq: number; key: string } => ({ created, seq: 0, key });
const precedence: ReadonlyArray<{ name: string; a: [unknown, ReturnType<typeof owner>, number]; b: [unknown, ReturnType<typeof owner>, number] }> = [
  { name: 'longer service wins', a: [{ method: { service: 'pkg.Service' } }, owner('ns/z'), 1], b: [{ method: { service: 'pkg.S', method: 'LongMethodName' } }, owner('ns/a'), 0] },
  { name: 'same service: longer method wins', a: [{ method: { service: 's', method: 'GetAll' } }, owner('ns/z'), 1], b: [{ method: { service: 's', method: 'Get' } }, owner('ns/a'), 0] },
  { name: 'same service and method: more headers win', a: [{ method: { service: 's', method: 'm' }, headers: [{ name: 'a', value: '1' }] }, owner('ns/z'), 1], b: [{ method: { service: 's', method: 'm' } }, owner('ns/a'), 0] },
  { name: 'tie: older route wins', a: [{ method: { service: 's' } }, owner('ns/z', 1), 0], b: [{ method: { service: 's' } }, owner('ns/a', 2), 0] },
  { name: 'tie: name order', a: [{ method: { service: 's' } }, owner('ns/a'), 0], b: [{ method: { service: 's' } }, owner('ns/b'), 0] },
  { name: 'tie within a route: first rule', a: [{ method: { service: 's' } }, owner('ns/a'), 0], b: [{ method: { service: 's' } }, owner('ns/a'), 1] },
];
for (const c of precedence) {
  test(`precedence: ${c.name}`, () => {
    const ra = grpcRankOf(m(c.a[0]), c.a[1], c.a[2], 0);
    const rb = grpcRankOf(m(c.b[0]), c.b[1], c.b[2], 0);
    assert.ok(compareGrpcRank(ra, rb) < 0);
    assert.ok(compareGrpcRank(rb, ra) > 0);
  });
}
