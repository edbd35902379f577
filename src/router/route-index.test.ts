// Tests for RouteIndex: on random tables (every path type, methods, headers, query params, hostnames,
// foreign matchers) and random requests it selects exactly the entry the plain scan selects, and it narrows
// the entries tested. (compile() building the index: route-index-compile.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_CHAIN } from '../filters/types.js';
import { httpRouteMatch, type HTTPRouteMatch } from '../config/model/http-route.js';
import { grpcRouteMatch } from '../config/model/grpc-route.js';
import type { HttpRouting, RouteEntry } from '../config/snapshot.js';
import { compileGrpcRouteMatch } from './grpc-match.js';
import { type CompiledHttpMatch, compileHttpRouteMatch, MATCH_EVERYTHING } from './match/http-match.js';
import { rankOf, sortByPrecedence } from './precedence.js';
import { RequestView } from './request-view.js';
import { buildRoutingIndex, RouteIndex } from './route-index.js';
import { scanRoutes } from './route-scan.js';
import { selectRouteEntry } from './route-select.js';

/** mulberry32: a small seeded PRNG, so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Rand = () => number;
const pick = <T>(r: Rand, xs: ReadonlyArray<T>): T => xs[Math.floor(r() * xs.length)] as T;
const chance = (r: Rand, p: number): boolean => r() < p;

// A small vocabulary so that routes overlap: shared prefixes, `/ab` vs `/abc`, case, escapes, dots.
const SEGMENTS = ['a', 'ab', 'abc', 'api', 'v1', 'v2', 'A', '%41', 'x.y', 'r00001'];
function segmentsPath(r: Rand, max: number): string {
  const n = 1 + Math.floor(r() * max);
  return Array.from({ length: n }, () => `/${pick(r, SEGMENTS)}`).join('');
}
const REGEXES = ['/a/.*', '/ap.*', '/(a|ab)/v1', '.*', '/api/v[12]', '/[^/]+/x\\.y', '/abc'];

function randomMatch(r: Rand): HTTPRouteMatch {
  const kind = r();
  const path = kind < 0.35 ? { type: 'Exact', value: segmentsPath(r, 3) + (chance(r, 0.1) ? '/' : '') }
    : kind < 0.75 ? { type: 'PathPrefix', value: chance(r, 0.1) ? '/' : segmentsPath(r, 3) + (chance(r, 0.3) ? '/' : '') }
    : kind < 0.9 ? { type: 'RegularExpression', value: pick(r, REGEXES) }
    : undefined;
  const headers = Array.from({ length: Math.floor(r() * 3) }, () => ({
    name: pick(r, ['x-h', 'X-H', 'x-k']),
    ...(chance(r, 0.3) ? { type: 'RegularExpression', value: 'v|w' } : { value: pick(r, ['v', 'w']) }),
  }));
  const queryParams = Array.from({ length: Math.floor(r() * 2) }, () => ({ name: 'q', value: pick(r, ['1', '2']) }));
  return httpRouteMatch.parse({
    ...(path === undefined ? {} : { path }),
    ...(chance(r, 0.3) ? { method: pick(r, ['GET', 'POST']) } : {}),
    headers,
    queryParams,
  });
}

/** Not an HttpMatch: the index cannot see its conditions (as VirtualService matchers). */
const FOREIGN: CompiledHttpMatch = Object.freeze({ method: undefined, test: (v: RequestView): boolean => v.path.length % 2 === 0 });

function entry(name: string, match: CompiledHttpMatch, matchSpec: HTTPRouteMatch, hostnames: ReadonlyArray<string> | null): RouteEntry {
  return Object.freeze({
    name, route: `ns/${name}`, ruleIndex: 0, matchIndex: 0, match, matchSpec, hostnames,
    filters: EMPTY_CHAIN, action: { kind: 'direct', status: 500, details: 'test' } as const,
  });
}

function compiled(m: HTTPRouteMatch): CompiledHttpMatch {
  const c = compileHttpRouteMatch(m);
  assert.ok(c.ok, c.ok ? '' : c.message);
  return c.match;
}

function randomTable(r: Rand, size: number, sorted: boolean): RouteEntry[] {
  const ranked = Array.from({ length: size }, (_, i) => {
    const spec = randomMatch(r);
    const kind = r();
    const match = kind < 0.04 ? MATCH_EVERYTHING : kind < 0.08 ? FOREIGN : compiled(spec);
    const hostnames = chance(r, 0.1) ? [pick(r, ['*.example.com', 'a.example.com'])] : null;
    return { rank: rankOf(spec, { created: 0, seq: 0, key: `ns/r${i % 7}` }, i, 0), entry: entry(`e${i}`, match, spec, hostnames) };
  });
  return (sorted ? sortByPrecedence(ranked) : ranked).map((x) => x.entry);
}

function randomRequest(r: Rand): RequestView {
  let path = chance(r, 0.05) ? pick(r, ['', '*', '/', '//a', '/a//v1']) : segmentsPath(r, 4);
  if (chance(r, 0.2)) path += '/';
  if (chance(r, 0.1)) path += pick(r, ['x', 'bc', '.y']); // `/abc` after `/ab`: not a segment boundary
  if (chance(r, 0.3)) path += `?q=${pick(r, ['1', '2', '3'])}`;
  const headers: Record<string, string> = {};
  if (chance(r, 0.5)) headers['x-h'] = pick(r, ['v', 'w', 'z']);
  if (chance(r, 0.3)) headers['x-k'] = pick(r, ['v', 'w']);
  if (chance(r, 0.5)) headers['host'] = pick(r, ['a.example.com', 'b.example.com:8080', 'example.com', 'A.Example.com']);
  return new RequestView(pick(r, ['GET', 'POST', 'PUT']), path, headers);
}

const equivalence: ReadonlyArray<{ name: string; seeds: number; sizes: ReadonlyArray<number>; sorted: boolean; keyMask?: number }> = [
  { name: 'tables in precedence order', seeds: 150, sizes: [0, 1, 5, 40, 200], sorted: true },
  { name: 'tables in arbitrary order (VirtualService-like first match)', seeds: 100, sizes: [3, 30, 120], sorted: false },
  { name: 'forced hash collisions (2-bit keys)', seeds: 80, sizes: [10, 60], sorted: true, keyMask: 0x3 },
  { name: 'every key colliding (0-bit keys)', seeds: 40, sizes: [25], sorted: false, keyMask: 0 },
];
for (const c of equivalence) {
  test(`equivalence with the scan: ${c.name}`, () => {
    let compared = 0;
    let matched = 0;
    for (let seed = 1; seed <= c.seeds; seed++) {
      const r = prng(seed * 7919 + c.sizes.length);
      for (const size of c.sizes) {
        const table = randomTable(r, size, c.sorted);
        const index = new RouteIndex(table, c.keyMask === undefined ? {} : { keyMask: c.keyMask });
        for (let q = 0; q < 60; q++) {
          const view = randomRequest(r);
          const want = scanRoutes(table, view);
          const got = index.select(view);
          assert.equal(got?.name, want?.name, `seed ${seed}, size ${size}: ${view.method} ${view.path}?${view.rawQuery}`);
          assert.equal(got, want);
          compared++;
          if (want !== undefined) matched++;
        }
      }
    }
    // The random sets must exercise both outcomes, or the comparison proves little.
    assert.ok(matched > compared / 10 && matched < compared, `matched ${matched} of ${compared}`);
  });
}

test('equivalence with the scan: GRPCRoute tables (service/method as Exact, prefix and regex paths)', () => {
  const r = prng(42);
  const services = ['pkg.Svc', 'pkg.Other', 'a'];
  const methods = ['Get', 'List', 'Put'];
  for (let t = 0; t < 60; t++) {
    const table = Array.from({ length: 1 + Math.floor(r() * 30) }, (_, i) => {
      const method = chance(r, 0.2)
        ? { type: 'RegularExpression', service: 'pkg\\..*', method: pick(r, methods) }
        : { ...(chance(r, 0.8) ? { service: pick(r, services) } : {}), ...(chance(r, 0.6) ? { method: pick(r, methods) } : {}) };
      const raw = Object.keys(method).length === 0 ? {} : { method, headers: chance(r, 0.3) ? [{ name: 'x-h', value: 'v' }] : [] };
      const c = compileGrpcRouteMatch(grpcRouteMatch.parse(raw));
      assert.ok(c.ok);
      return entry(`g${i}`, c.match, c.http, null);
    });
    const index = new RouteIndex(table);
    for (let q = 0; q < 50; q++) {
      const path = `/${pick(r, [...services, 'pkg.SvcX'])}/${pick(r, [...methods, 'GetAll'])}${chance(r, 0.1) ? '/x' : ''}`;
      const view = new RequestView('POST', path, chance(r, 0.5) ? { 'x-h': 'v' } : {});
      assert.equal(index.select(view), scanRoutes(table, view), `table ${t}: ${path}`);
    }
  }
});

/** A table whose element reads are counted: how many entries a selection looked at. */
function counted(entries: RouteEntry[]): { table: ReadonlyArray<RouteEntry>; reads: () => number } {
  let reads = 0;
  const table = new Proxy(entries, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { table, reads: () => reads };
}

// maxReads counts table reads, including the one that returns the winner.
interface Narrowing {
  name: string;
  spec: (i: number) => unknown;
  path: (n: number) => string;
  method?: string;
  headers?: Record<string, string>;
  maxReads: number;
  /** No rule matches the request (otherwise one must). */
  miss?: true;
}
const narrowing: ReadonlyArray<Narrowing> = [
  { name: '1,000 PathPrefix rules: the last one', spec: (i) => ({ path: { type: 'PathPrefix', value: `/r${i}/` }, headers: [{ name: 'x-h', value: 'v' }] }), path: (n) => `/r${n - 1}/echo`, maxReads: 2 },
  { name: '1,000 Exact rules: the last one', spec: (i) => ({ path: { type: 'Exact', value: `/r${i}` } }), path: (n) => `/r${n - 1}`, maxReads: 2 },
  { name: '1,000 PathPrefix rules: no match reads nothing', spec: (i) => ({ path: { type: 'PathPrefix', value: `/r${i}` } }), path: () => '/none/r1', maxReads: 0, miss: true },
  { name: '1,000 tenants by Exact header on any path: the last one', spec: (i) => ({ headers: [{ name: 'X-Tenant', value: `t${i}` }, { name: 'x-h', value: 'v' }] }), path: () => '/any', headers: { 'x-tenant': 't999', 'x-h': 'v' }, maxReads: 2 },
  { name: '1,000 RegularExpression paths with methods: the only GET', spec: (i) => ({ path: { type: 'RegularExpression', value: `/x${i}.*` }, method: i === 999 ? 'GET' : 'POST' }), path: () => '/x999', maxReads: 2 },
  { name: 'shared prefix: the longest prefix is tried first and ends the search', spec: (i) => ({ path: { type: 'PathPrefix', value: i % 2 === 0 ? `/api/v${i}` : `/api/v${i - 1}/x` } }), path: (n) => `/api/v${n - 2}/x/y`, maxReads: 2 },
];
for (const c of narrowing) {
  test(`narrowing: ${c.name}`, () => {
    const n = 1000;
    const entries = sortByPrecedence(Array.from({ length: n }, (_, i) => {
      const spec = httpRouteMatch.parse(c.spec(i));
      return { rank: rankOf(spec, { created: 0, seq: 0, key: 'ns/r' }, i, 0), entry: entry(`e${i}`, compiled(spec), spec, null) };
    })).map((x) => x.entry);
    const { table, reads } = counted(entries);
    const index = new RouteIndex(table);
    const view = new RequestView(c.method ?? 'GET', c.path(n), c.headers ?? { 'x-h': 'v' });
    const before = reads();
    const got = index.select(view);
    assert.equal(got, scanRoutes(entries, view));
    assert.equal(got === undefined, c.miss === true);
    assert.ok(reads() - before <= c.maxReads, `read ${reads() - before} entries`);
  });
}

test('selectRouteEntry: consumer tables through their own index, and a stale index is never used', () => {
  const spec = (value: string): HTTPRouteMatch => httpRouteMatch.parse({ path: { type: 'Exact', value } });
  const producer = Object.freeze([entry('p', compiled(spec('/x')), spec('/x'), null)]);
  const consumer = Object.freeze([entry('c', compiled(spec('/x')), spec('/x'), null)]);
  const consumers = new Map([['ops', consumer]]);
  const routing: HttpRouting & { kind: 'routes' } = { kind: 'routes', producer, consumers, index: buildRoutingIndex(producer, consumers) };
  const view = new RequestView('GET', '/x', {});
  const cases: ReadonlyArray<{ name: string; routing: HttpRouting & { kind: 'routes' }; ns: string | undefined; want: string | undefined }> = [
    { name: 'producer', routing, ns: undefined, want: 'p' },
    { name: 'other namespace', routing, ns: 'dev', want: 'p' },
    { name: 'consumer namespace', routing, ns: 'ops', want: 'c' },
    { name: 'no index: scan', routing: { kind: 'routes', producer, consumers }, ns: 'ops', want: 'c' },
    // A copy with a replaced table keeps the old index: the index must not answer for the new table.
    { name: 'replaced producer table', routing: { ...routing, producer: Object.freeze([]) }, ns: undefined, want: undefined },
  ];
  for (const c of cases) assert.equal(selectRouteEntry(c.routing, view, c.ns)?.name, c.want, c.name);
});
