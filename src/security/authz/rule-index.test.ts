// Tests of the compiled representation: where the index files each rule, that the first matching rule
// in id order is found across index buckets and the scan list, that the indexed engine decides exactly
// as a full scan on randomly generated policies and requests (HTTP and TCP, decisions and shadow
// traces), and that request attributes are extracted once per request however many policies read them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeaderList } from '../../http/header-list.js';
import type { RequestAuth } from '../../proxy/http-exchange.js';
import { pathHeadOf, principalHeadOf } from './authz-input.js';
import { compilePolicy } from './compiled-policy.js';
import { RbacEngine } from './rbac-engine.js';
import { connectionInput, policiesFrom, policyYaml, type RequestSpec, requestInput } from './test-support.js';

const TD = ['cluster.local', 'alias.td'];

function engines(yaml: string, mode: 'http' | 'tcp' = 'http'): { indexed: RbacEngine; scan: RbacEngine } {
  const { policies, diagnostics } = policiesFrom(yaml);
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.path}: ${d.message}`), [], 'the test policies are valid');
  const compiled = policies.map((p) => compilePolicy(p, TD));
  return { indexed: new RbacEngine(compiled, mode), scan: new RbacEngine(compiled, mode, false) };
}

const allow = (name: string, rules: string): string => policyYaml(name, `  rules:\n${rules}`);

interface PlacementCase {
  readonly name: string;
  readonly rule: string;
  /** `scan`, or the index key the rule is filed under. */
  readonly filed: 'scan' | 'principal' | 'path' | 'port' | 'method';
}

const placements: ReadonlyArray<PlacementCase> = [
  { name: 'exact principal', rule: '  - from: [{source: {principals: ["cluster.local/ns/a/sa/x"]}}]', filed: 'principal' },
  { name: 'principal prefix spanning <td>/ns/<ns>/', rule: '  - from: [{source: {principals: ["cluster.local/ns/a/*"]}}]', filed: 'principal' },
  { name: 'principal prefix shorter than three segments', rule: '  - from: [{source: {principals: ["cluster.local/ns/a*"]}}]', filed: 'scan' },
  { name: 'principal suffix', rule: '  - from: [{source: {principals: ["*/sa/x"]}}]', filed: 'scan' },
  { name: 'principal *', rule: '  - from: [{source: {principals: ["*"]}}]', filed: 'scan' },
  { name: 'notPrincipals never index', rule: '  - from: [{source: {notPrincipals: ["cluster.local/ns/a/sa/x"]}}]', filed: 'scan' },
  { name: 'every `from` has an exact principal', rule: '  - from: [{source: {principals: ["cluster.local/ns/a/sa/x"]}}, {source: {principals: ["cluster.local/ns/b/sa/y"]}}]', filed: 'principal' },
  { name: 'one `from` without a principal', rule: '  - from: [{source: {principals: ["cluster.local/ns/a/sa/x"]}}, {source: {namespaces: ["b"]}}]', filed: 'scan' },
  { name: 'source.principal condition', rule: '  - when: [{key: source.principal, values: ["cluster.local/ns/a/sa/x"]}]', filed: 'principal' },
  { name: 'exact paths', rule: '  - to: [{operation: {paths: ["/a", "/b"]}}]', filed: 'path' },
  { name: 'path prefix spanning the first segment', rule: '  - to: [{operation: {paths: ["/a", "/b/*"]}}]', filed: 'path' },
  { name: 'path prefix inside the first segment', rule: '  - to: [{operation: {paths: ["/a", "/b*"]}}]', filed: 'scan' },
  { name: 'path suffix', rule: '  - to: [{operation: {paths: ["*.png"]}}]', filed: 'scan' },
  { name: 'path template with a literal first segment', rule: '  - to: [{operation: {paths: ["/u/{*}", "/s/{**}"]}}]', filed: 'path' },
  { name: 'path template starting with an operator', rule: '  - to: [{operation: {paths: ["/{*}/x"]}}]', filed: 'scan' },
  { name: 'notPaths never index', rule: '  - to: [{operation: {notPaths: ["/a"]}}]', filed: 'scan' },
  { name: 'ports', rule: '  - to: [{operation: {ports: ["8080"], paths: ["*.png"]}}]', filed: 'port' },
  { name: 'destination.port condition', rule: '  - when: [{key: destination.port, values: ["80"]}]', filed: 'port' },
  { name: 'exact methods', rule: '  - to: [{operation: {methods: ["GET", "HEAD"]}}]', filed: 'method' },
  { name: 'principal wins over path, port and method', rule: '  - from: [{source: {principals: ["cluster.local/ns/a/sa/x"]}}]\n    to: [{operation: {paths: ["/a"], ports: ["80"], methods: ["GET"]}}]', filed: 'principal' },
  { name: 'empty rule', rule: '  - {}', filed: 'scan' },
];

for (const c of placements) {
  test(`index placement: ${c.name} → ${c.filed}`, () => {
    const stats = engines(allow('p', c.rule)).indexed.allow.stats();
    assert.equal(stats.rules, 1);
    if (c.filed === 'scan') assert.deepEqual([stats.scanned, stats.indexed], [1, {}]);
    else assert.deepEqual([stats.scanned, stats.indexed], [0, { [c.filed]: 1 }]);
  });
}

test('principal index: trust-domain aliases file the rule under every alias', () => {
  const { indexed } = engines(allow('p', '  - from: [{source: {principals: ["cluster.local/ns/a/sa/x"]}}]'));
  for (const td of TD) assert.equal(indexed.decide(requestInput({ principal: `spiffe://${td}/ns/a/sa/x` })).allowed, true, td);
  assert.equal(indexed.decide(requestInput({ principal: 'spiffe://evil.td/ns/a/sa/x' })).allowed, false);
});

test('path head: the path up to its second slash', () => {
  for (const [path, head] of [['/a/b/c', '/a'], ['/a/', '/a'], ['/a', '/a'], ['/', '/'], ['//x', '/'], ['*', '*']] as const) assert.equal(pathHeadOf(path), head, path);
});

test('principal head: the first three segments of the principal body', () => {
  const cases: ReadonlyArray<readonly [string | undefined, string | undefined]> = [
    ['cluster.local/ns/a/sa/x', 'cluster.local/ns/a'], ['cluster.local/ns/a/', 'cluster.local/ns/a'], ['cluster.local/ns/a', 'cluster.local/ns/a'],
    ['td/x', 'td/x'], ['td', 'td'], ['', ''], [undefined, undefined],
  ];
  for (const [body, head] of cases) assert.equal(principalHeadOf(body), head, String(body));
});

interface OrderCase {
  readonly name: string;
  readonly yaml: string;
  readonly request: RequestSpec;
  readonly policyId: string;
}

const DENY = (name: string, rules: string): string => policyYaml(name, `  action: DENY\n  rules:\n${rules}`);
const SLEEP = 'spiffe://cluster.local/ns/a/sa/sleep';

const orderCases: ReadonlyArray<OrderCase> = [
  {
    name: 'a scanned rule before an indexed one is reported',
    yaml: `${DENY('a', '  - to: [{operation: {paths: ["/x/*"]}}]')}---\n${DENY('b', '  - from: [{source: {principals: ["cluster.local/ns/a/sa/sleep"]}}]')}`,
    request: { principal: SLEEP, path: '/x/1' },
    policyId: 'ns[foo]-policy[a]-rule[0]',
  },
  {
    name: 'an indexed rule before a scanned one is reported',
    yaml: `${DENY('a', '  - from: [{source: {principals: ["cluster.local/ns/a/sa/sleep"]}}]')}---\n${DENY('b', '  - to: [{operation: {paths: ["/x/*"]}}]')}`,
    request: { principal: SLEEP, path: '/x/1' },
    policyId: 'ns[foo]-policy[a]-rule[0]',
  },
  {
    name: 'across two index keys, the lower id wins',
    yaml: `${DENY('a', '  - to: [{operation: {methods: ["GET"]}}]')}---\n${DENY('b', '  - to: [{operation: {paths: ["/x"]}}]')}`,
    request: { path: '/x', method: 'GET' },
    policyId: 'ns[foo]-policy[a]-rule[0]',
  },
  {
    name: 'rule ids sort as strings: rule[10] before rule[2]',
    yaml: DENY('a', Array.from({ length: 11 }, (_, i) => `  - to: [{operation: {paths: ["/p${i === 2 || i === 10 ? '' : i}"]}}]`).join('\n')),
    request: { path: '/p' },
    policyId: 'ns[foo]-policy[a]-rule[10]',
  },
];

for (const c of orderCases) {
  test(`first match in id order: ${c.name}`, () => {
    const { indexed, scan } = engines(c.yaml);
    assert.deepEqual(indexed.decide(requestInput(c.request)), { allowed: false, policyId: c.policyId });
    assert.deepEqual(scan.decide(requestInput(c.request)), { allowed: false, policyId: c.policyId });
  });
}

// Random policies and requests from small pools of values that collide, so every field both matches and misses.
const SOURCES: Readonly<Record<string, ReadonlyArray<string>>> = {
  principals: ['cluster.local/ns/a/sa/x', 'cluster.local/ns/b/sa/y', 'cluster.local/ns/a/*', 'cluster.local/ns/a/sa/*', 'cluster.local/*', '*/sa/x', '*', 'other.td/ns/a/sa/x', 'cluster.local/ns/a'],
  namespaces: ['a', 'b', 'a*', '*'],
  ipBlocks: ['10.0.0.0/8', '10.1.2.3', '192.168.0.0/16', '::1'],
  remoteIpBlocks: ['9.9.9.9', '10.0.0.0/8'],
  requestPrincipals: ['*', 'iss/*', '*/alice', 'iss/alice', 'https://x/iss/alice'],
  trustDomains: ['cluster.local', 'other.td', '*', '*.td'],
};
const OPERATIONS: Readonly<Record<string, ReadonlyArray<string>>> = {
  hosts: ['web.foo', 'web.foo:*', '*.foo', 'WEB.FOO', '*'],
  ports: ['80', '8080'],
  methods: ['GET', 'POST', '*'],
  paths: ['/a', '/a/*', '*.png', '/u/{*}/p', '/s/{**}', '*', '/b', '/a*', '/{*}/p'],
};
const CONDITIONS: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ['request.headers[x-a]', ['1', '2*', '*']], ['source.ip', ['10.0.0.0/8', '127.0.0.1']], ['destination.port', ['80', '8080']],
  ['source.namespace', ['a', 'b*']], ['source.principal', ['cluster.local/ns/a/sa/x', 'cluster.local/ns/b/*']], ['request.auth.claims[groups]', ['dev', 'o*']],
  ['connection.sni', ['*.com', 'a.com']], ['remote.ip', ['9.9.9.9']], ['source.serviceAccount', ['a/x', 'b/y']], ['source.trustDomain', ['cluster.local']],
  ['request.auth.principal', ['iss/alice', '*']], ['request.auth.audiences', ['web']], ['request.auth.presenter', ['cli', '*']],
];

class Random {
  #seed: number;
  constructor(seed: number) {
    this.#seed = seed;
  }
  next(): number {
    this.#seed = (this.#seed * 1103515245 + 12345) % 2147483648;
    return this.#seed / 2147483648;
  }
  pick<T>(a: ReadonlyArray<T>): T {
    return a[Math.floor(this.next() * a.length)] as T;
  }
  some<T>(a: ReadonlyArray<T>): T[] {
    return [...new Set([this.pick(a), ...(this.next() < 0.5 ? [this.pick(a)] : [])])];
  }
}

function fields(r: Random, pool: Readonly<Record<string, ReadonlyArray<string>>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0, n = 1 + Math.floor(r.next() * 2); i < n; i++) {
    const f = r.pick(Object.keys(pool));
    const name = r.next() < 0.25 ? `not${f[0]?.toUpperCase() ?? ''}${f.slice(1)}` : f;
    out[name] = r.some(pool[f] ?? []);
  }
  return out;
}

function randomRule(r: Random): Record<string, unknown> {
  if (r.next() < 0.08) return {};
  const rule: Record<string, unknown> = {};
  const list = <T>(make: () => T): T[] => Array.from({ length: 1 + Math.floor(r.next() * 2) }, make);
  if (r.next() < 0.6) {
    rule['from'] = list(() => {
      const source = fields(r, SOURCES);
      if (r.next() < 0.15) return { source: { serviceAccounts: r.some(['a/x', 'y', 'b/y']), ...(source['ipBlocks'] === undefined ? {} : { ipBlocks: source['ipBlocks'] }) } };
      return { source };
    });
  }
  if (r.next() < 0.6) rule['to'] = list(() => ({ operation: fields(r, OPERATIONS) }));
  if (r.next() < 0.4) {
    rule['when'] = list(() => {
      const [key, values] = r.pick(CONDITIONS);
      return r.next() < 0.3 ? { key, notValues: r.some(values) } : { key, values: r.some(values) };
    });
  }
  return rule;
}

function randomPolicies(r: Random, count: number): string {
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    const action = r.pick(['ALLOW', 'ALLOW', 'DENY', 'AUDIT']);
    const dryRun = r.next() < 0.15 ? '\n  annotations:\n    istio.io/dry-run: "true"' : '';
    const rules = r.next() < 0.1 ? '' : `  rules: ${JSON.stringify(Array.from({ length: 1 + Math.floor(r.next() * 3) }, () => randomRule(r)))}`;
    docs.push(policyYaml(`p${i}`, `  action: ${action}\n${rules}`, dryRun));
  }
  return docs.join('---\n');
}

function randomRequest(r: Random): RequestSpec {
  const auth = r.pick<RequestAuth | undefined>([undefined, { principal: 'iss/alice', audiences: ['web'], presenter: 'cli', claims: { groups: ['dev', 'ops'] } }, { principal: 'https://x/iss/bob', audiences: ['app'], presenter: undefined, claims: { groups: 'other' } }]);
  const principal = r.pick(['spiffe://cluster.local/ns/a/sa/x', 'spiffe://cluster.local/ns/b/sa/y', 'spiffe://other.td/ns/a/sa/x', 'spiffe://alias.td/ns/a/sa/x', undefined, 'spiffe://cluster.local/foo/ns/a/bar', 'spiffe://cluster.local/ns/a/sa/x/extra', 'spiffe://cluster.local/ns/a']);
  const sni = r.pick([undefined, 'a.com', 'b.org']);
  return {
    remoteAddress: r.pick(['10.1.2.3', '127.0.0.1', '192.168.1.1', '::1']),
    path: r.pick(['/a', '/a/x', '/x.png', '/u/1/p', '/s/q/r', '/s', '/s/', '/b?x', '/', '/a?q=1', '/ab', '/ab/p']),
    method: r.pick(['GET', 'POST', 'DELETE']),
    host: r.pick(['web.foo', 'Web.Foo:8080', 'x.foo', 'web.bar']),
    port: r.pick([80, 8080, 9090]),
    headers: r.pick<ReadonlyArray<readonly [string, string]>>([[], [['x-a', '1']], [['x-a', '2z']], [['x-a', '']], [['x-forwarded-for', '9.9.9.9']]]),
    ...(auth === undefined ? {} : { auth }),
    ...(principal === undefined ? {} : { principal }),
    ...(sni === undefined ? {} : { sni }),
  };
}

for (const seed of [1, 2, 3]) {
  test(`indexed engine = full scan on random policies and requests (seed ${seed})`, () => {
    const r = new Random(seed);
    let indexedRules = 0;
    const outcomes = new Set<string>();
    for (let round = 0; round < 60; round++) {
      const yaml = randomPolicies(r, 1 + Math.floor(r.next() * 12));
      const { policies } = policiesFrom(yaml);
      const compiled = policies.map((p) => compilePolicy(p, TD));
      for (const mode of ['http', 'tcp'] as const) {
        const indexed = new RbacEngine(compiled, mode);
        const scan = new RbacEngine(compiled, mode, false);
        for (const s of [indexed.deny, indexed.allow, indexed.audit]) indexedRules += s.length - s.stats().scanned;
        for (let q = 0; q < 20; q++) {
          const req = randomRequest(r);
          const input = (): ReturnType<typeof requestInput> => (mode === 'http' ? requestInput(req) : connectionInput(req));
          const want = scan.decide(input());
          assert.deepEqual(indexed.decide(input()), want, `${mode} ${JSON.stringify(req)}\n${yaml}`);
          if (scan.hasShadow) assert.deepEqual(indexed.trace(input()), scan.trace(input()), `${mode} ${JSON.stringify(req)}\n${yaml}`);
          outcomes.add(`${want.allowed}:${want.policyId === undefined ? 'none' : want.policyId === 'none' ? 'no-match' : 'rule'}`);
        }
      }
    }
    assert.ok(indexedRules > 100, `the index is exercised (${indexedRules} indexed rules)`);
    assert.deepEqual([...outcomes].sort(), ['false:no-match', 'false:rule', 'true:none', 'true:rule'], 'every kind of decision occurs');
  });
}

class CountingHeaders extends HeaderList {
  readonly reads = new Map<string, number>();
  override getAll(name: string): string[] {
    this.reads.set(name, (this.reads.get(name) ?? 0) + 1);
    return super.getAll(name);
  }
}

test('a header read by a hundred policies is looked up once per request', () => {
  const docs = Array.from({ length: 100 }, (_, i) => allow(`p${i}`, `  - when: [{key: "request.headers[X-Tenant]", values: ["t${i}"]}]\n    to: [{operation: {paths: ["/a*"]}}]`));
  const { indexed } = engines(docs.join('---\n'));
  const headers = new CountingHeaders(['host', 'web', 'x-tenant', 't99']);
  const d = indexed.decide(requestInput({ path: '/abc', headerList: headers }));
  assert.deepEqual(d, { allowed: true, policyId: 'ns[foo]-policy[p99]-rule[0]' });
  assert.equal(headers.reads.get('x-tenant'), 1);
});

test('hosts are lower-cased once per request, not once per policy', () => {
  const docs = Array.from({ length: 50 }, (_, i) => allow(`p${i}`, `  - to: [{operation: {hosts: ["Svc${i}.Example.com"]}}]`));
  const { indexed } = engines(docs.join('---\n'));
  const input = requestInput({ host: 'SVC49.example.COM' });
  assert.deepEqual(indexed.decide(input), { allowed: true, policyId: 'ns[foo]-policy[p49]-rule[0]' });
  assert.equal(input.hostLower, 'svc49.example.com');
});
