// Table-driven tests of AuthorizationPolicy semantics: every Source/Operation field and its `not` form,
// every `when` key, each with a matching and a non-matching request, then Istio's evaluation order
// (CUSTOM aside), `rules` absent vs `[{}]`, dry-run, AUDIT, and the TCP (L4) asymmetry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy } from './compiled-policy.js';
import { RbacEngine } from './rbac-engine.js';
import { connectionInput, policiesFrom, policyYaml, type RequestSpec, requestInput } from './test-support.js';

const TD = ['cluster.local'];
const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';
const OTHER = 'spiffe://cluster.local/ns/bar/sa/other';
const JWT = { principal: 'https://issuer.example.com/tokens/alice', audiences: ['app', 'web'], presenter: 'cli', claims: { groups: ['dev', 'ops'], role: 'admin', nested: { level: { deep: 'yes' } }, n: 5 } };

function engineFor(yaml: string, mode: 'http' | 'tcp' = 'http', trustDomains = TD): RbacEngine {
  const { policies, diagnostics } = policiesFrom(yaml);
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.path}: ${d.message}`), [], 'the test policy is valid');
  return new RbacEngine(policies.map((p) => compilePolicy(p, trustDomains)), mode);
}

/** An ALLOW policy with one rule; the request is allowed exactly when the rule matches. */
const allowRule = (rule: string): string => policyYaml('p', `  rules:\n${rule}`);

interface FieldCase {
  readonly name: string;
  readonly rule: string;
  readonly match: RequestSpec;
  readonly miss: RequestSpec;
}

const src = (body: string): string => `  - from:\n    - source:\n        ${body}`;
const op = (body: string): string => `  - to:\n    - operation:\n        ${body}`;
const when = (key: string, values: string, field = 'values'): string => `  - when:\n    - key: ${JSON.stringify(key)}\n      ${field}: ${values}`;

const fieldCases: ReadonlyArray<FieldCase> = [
  { name: 'principals exact (spiffe:// prepended)', rule: src('principals: ["cluster.local/ns/foo/sa/sleep"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'principals prefix', rule: src('principals: ["cluster.local/ns/foo/*"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'principals suffix', rule: src('principals: ["*/sa/sleep"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'principals * needs an identity', rule: src('principals: ["*"]'), match: { principal: SLEEP }, miss: {} },
  { name: 'notPrincipals', rule: src('notPrincipals: ["cluster.local/ns/bar/sa/other"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'notPrincipals * = plaintext only', rule: src('notPrincipals: ["*"]'), match: {}, miss: { principal: SLEEP } },
  { name: 'requestPrincipals exact iss/sub', rule: src('requestPrincipals: ["https://issuer.example.com/tokens/alice"]'), match: { auth: JWT }, miss: { auth: { ...JWT, principal: 'https://issuer.example.com/tokens/bob' } } },
  { name: 'requestPrincipals iss/* (split at the last /)', rule: src('requestPrincipals: ["https://issuer.example.com/tokens/*"]'), match: { auth: JWT }, miss: { auth: { ...JWT, principal: 'https://issuer.example.com/tokens/x/alice' } } },
  { name: 'requestPrincipals */sub', rule: src('requestPrincipals: ["*/alice"]'), match: { auth: JWT }, miss: { auth: { ...JWT, principal: 'https://issuer.example.com/tokens/bob' } } },
  { name: 'requestPrincipals * = any JWT', rule: src('requestPrincipals: ["*"]'), match: { auth: JWT }, miss: {} },
  { name: 'notRequestPrincipals * = no JWT', rule: src('notRequestPrincipals: ["*"]'), match: {}, miss: { auth: JWT } },
  { name: 'namespaces', rule: src('namespaces: ["foo"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'namespaces with *', rule: src('namespaces: ["f*"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'namespaces need an identity', rule: src('namespaces: ["*"]'), match: { principal: OTHER }, miss: {} },
  { name: 'notNamespaces', rule: src('notNamespaces: ["bar"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'serviceAccounts ns/sa', rule: src('serviceAccounts: ["foo/sleep"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'serviceAccounts bare sa = policy namespace', rule: src('serviceAccounts: ["sleep"]'), match: { principal: SLEEP }, miss: { principal: 'spiffe://cluster.local/ns/bar/sa/sleep' } },
  { name: 'notServiceAccounts', rule: src('notServiceAccounts: ["foo/sleep"]'), match: { principal: OTHER }, miss: { principal: SLEEP } },
  { name: 'ipBlocks CIDR', rule: src('ipBlocks: ["10.1.0.0/16"]'), match: { remoteAddress: '10.1.2.3' }, miss: { remoteAddress: '10.2.0.1' } },
  { name: 'ipBlocks single IP, IPv4-mapped peer', rule: src('ipBlocks: ["127.0.0.1"]'), match: { remoteAddress: '::ffff:127.0.0.1' }, miss: { remoteAddress: '127.0.0.2' } },
  { name: 'ipBlocks IPv6', rule: src('ipBlocks: ["fd00::/8"]'), match: { remoteAddress: 'fd12::1' }, miss: { remoteAddress: 'fe80::1' } },
  { name: 'notIpBlocks', rule: src('notIpBlocks: ["10.1.0.0/16"]'), match: { remoteAddress: '10.2.0.1' }, miss: { remoteAddress: '10.1.2.3' } },
  { name: 'remoteIpBlocks: last X-Forwarded-For address', rule: src('remoteIpBlocks: ["192.168.0.0/16"]'), match: { headers: [['x-forwarded-for', '1.1.1.1, 192.168.1.1']] }, miss: { headers: [['x-forwarded-for', '192.168.1.1, 1.1.1.1']] } },
  { name: 'remoteIpBlocks without XFF = peer', rule: src('remoteIpBlocks: ["10.1.2.3"]'), match: {}, miss: { remoteAddress: '10.9.9.9' } },
  { name: 'notRemoteIpBlocks', rule: src('notRemoteIpBlocks: ["192.168.0.0/16"]'), match: { headers: [['x-forwarded-for', '8.8.8.8']] }, miss: { headers: [['x-forwarded-for', '192.168.3.3']] } },
  { name: 'trustDomains', rule: src('trustDomains: ["cluster.local"]'), match: { principal: SLEEP }, miss: { principal: 'spiffe://other.td/ns/foo/sa/sleep' } },
  { name: 'notTrustDomains', rule: src('notTrustDomains: ["other.td"]'), match: { principal: SLEEP }, miss: { principal: 'spiffe://other.td/ns/foo/sa/sleep' } },
  { name: 'hosts exact, case-insensitive', rule: op('hosts: ["Web.Foo"]'), match: { host: 'web.foo' }, miss: { host: 'web.foo:80' } },
  { name: 'hosts with port form', rule: op('hosts: ["web.foo:*"]'), match: { host: 'web.foo:8080' }, miss: { host: 'web.foo' } },
  { name: 'hosts suffix', rule: op('hosts: ["*.example.com"]'), match: { host: 'a.EXAMPLE.com' }, miss: { host: 'example.com' } },
  { name: 'notHosts', rule: op('notHosts: ["admin.foo"]'), match: { host: 'web.foo' }, miss: { host: 'admin.foo' } },
  { name: 'ports', rule: op('ports: ["80"]'), match: { port: 80 }, miss: { port: 8080 } },
  { name: 'notPorts', rule: op('notPorts: ["80"]'), match: { port: 8080 }, miss: { port: 80 } },
  { name: 'methods (case-sensitive)', rule: op('methods: ["GET"]'), match: { method: 'GET' }, miss: { method: 'POST' } },
  { name: 'notMethods', rule: op('notMethods: ["DELETE"]'), match: { method: 'GET' }, miss: { method: 'DELETE' } },
  { name: 'paths exact (query ignored)', rule: op('paths: ["/api"]'), match: { path: '/api?x=1' }, miss: { path: '/api/' } },
  { name: 'paths prefix', rule: op('paths: ["/api/*"]'), match: { path: '/api/v1' }, miss: { path: '/apix' } },
  { name: 'paths suffix', rule: op('paths: ["*.png"]'), match: { path: '/img/a.png' }, miss: { path: '/img/a.jpg' } },
  { name: 'paths presence', rule: op('paths: ["*"]'), match: { path: '/' }, miss: { method: 'GET', path: '/' } },
  { name: 'paths template {*}', rule: op('paths: ["/users/{*}/profile"]'), match: { path: '/users/42/profile' }, miss: { path: '/users/42/x/profile' } },
  { name: 'paths template {**}', rule: op('paths: ["/static/{**}"]'), match: { path: '/static/a/b/c.css' }, miss: { path: '/other/a' } },
  { name: 'notPaths', rule: op('notPaths: ["/admin/*"]'), match: { path: '/api' }, miss: { path: '/admin/x' } },
  { name: 'when request.headers (name case-insensitive)', rule: when('request.headers[X-Token]', '["abc*"]'), match: { headers: [['x-token', 'abcdef']] }, miss: { headers: [['x-token', 'zzz']] } },
  { name: 'when request.headers repeated values joined with ","', rule: when('request.headers[x-v]', '["a,b"]'), match: { headers: [['x-v', 'a'], ['X-V', 'b']] }, miss: { headers: [['x-v', 'a']] } },
  { name: 'when request.headers * = present, even empty', rule: when('request.headers[x-flag]', '["*"]'), match: { headers: [['x-flag', '']] }, miss: {} },
  { name: 'when request.headers notValues', rule: when('request.headers[x-env]', '["prod"]', 'notValues'), match: { headers: [['x-env', 'dev']] }, miss: { headers: [['x-env', 'prod']] } },
  { name: 'when source.ip', rule: when('source.ip', '["10.1.0.0/16"]'), match: { remoteAddress: '10.1.9.9' }, miss: { remoteAddress: '10.3.0.1' } },
  { name: 'when remote.ip', rule: when('remote.ip', '["9.9.9.9"]'), match: { headers: [['x-forwarded-for', '9.9.9.9']] }, miss: { headers: [['x-forwarded-for', '9.9.9.8']] } },
  { name: 'when source.namespace', rule: when('source.namespace', '["foo"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'when source.principal', rule: when('source.principal', '["cluster.local/ns/foo/sa/sleep"]'), match: { principal: SLEEP }, miss: { principal: OTHER } },
  { name: 'when source.serviceAccount', rule: when('source.serviceAccount', '["bar/other"]'), match: { principal: OTHER }, miss: { principal: SLEEP } },
  { name: 'when source.trustDomain', rule: when('source.trustDomain', '["cluster.local"]'), match: { principal: SLEEP }, miss: {} },
  { name: 'when request.auth.principal', rule: when('request.auth.principal', '["https://issuer.example.com/tokens/alice"]'), match: { auth: JWT }, miss: {} },
  { name: 'when request.auth.audiences (any of the list)', rule: when('request.auth.audiences', '["web"]'), match: { auth: JWT }, miss: { auth: { ...JWT, audiences: ['app'] } } },
  { name: 'when request.auth.presenter', rule: when('request.auth.presenter', '["cli"]'), match: { auth: JWT }, miss: { auth: { ...JWT, presenter: undefined } } },
  { name: 'when request.auth.claims string', rule: when('request.auth.claims[role]', '["admin"]'), match: { auth: JWT }, miss: { auth: { ...JWT, claims: { role: 'user' } } } },
  { name: 'when request.auth.claims list: any element', rule: when('request.auth.claims[groups]', '["ops"]'), match: { auth: JWT }, miss: { auth: { ...JWT, claims: { groups: ['dev'] } } } },
  { name: 'when request.auth.claims nested', rule: when('request.auth.claims[nested][level][deep]', '["yes"]'), match: { auth: JWT }, miss: { auth: { ...JWT, claims: { nested: { level: { deep: 'no' } } } } } },
  { name: 'when request.auth.claims non-string never matches', rule: when('request.auth.claims[n]', '["5"]'), match: { auth: { ...JWT, claims: { n: '5' } } }, miss: { auth: JWT } },
  { name: 'when destination.ip', rule: when('destination.ip', '["10.0.0.0/24"]'), match: { vip: '10.0.0.10' }, miss: { vip: '10.0.1.10' } },
  { name: 'when destination.port', rule: when('destination.port', '["8080"]'), match: { port: 8080 }, miss: { port: 80 } },
  { name: 'when connection.sni (no TLS at the waypoint: absent)', rule: when('connection.sni', '["*"]', 'notValues'), match: {}, miss: { sni: 'x' } },
];

for (const c of fieldCases) {
  test(`field: ${c.name}`, () => {
    const e = engineFor(allowRule(c.rule));
    // A `miss` that sets `sni` is a TCP-only attribute: checked on the connection form.
    const matchInput = c.match.sni !== undefined ? connectionInput(c.match) : requestInput(c.match);
    const missInput = c.miss.sni !== undefined ? connectionInput(c.miss) : requestInput(c.miss);
    assert.equal(e.decide(matchInput).allowed, true, 'the matching request is allowed');
    if (c.name === 'paths presence') return; // `*` matches every path: nothing can miss it
    assert.equal(e.decide(missInput).allowed, false, 'the other request is denied');
  });
}

test('field: connection.sni on a TLS connection', () => {
  const e = engineFor(allowRule(when('connection.sni', '["*.example.com"]')), 'tcp');
  assert.equal(e.decide(connectionInput({ sni: 'api.example.com' })).allowed, true);
  assert.equal(e.decide(connectionInput({ sni: 'api.example.org' })).allowed, false);
  assert.equal(e.decide(connectionInput({})).allowed, false);
});

test('experimental.envoy.filters.* metadata never exists at this waypoint: such a condition never matches', () => {
  const e = engineFor(allowRule(when('experimental.envoy.filters.network.mysql_proxy[db.table]', '["*"]')));
  assert.equal(e.decide(requestInput({ principal: SLEEP })).allowed, false);
  assert.equal(e.hasAllow, true);
});

test('trust-domain aliases expand principals written with the local trust domain', () => {
  const e = engineFor(allowRule(src('principals: ["cluster.local/ns/foo/sa/sleep"]')), 'http', ['new.td', 'old.td']);
  assert.equal(e.decide(requestInput({ principal: 'spiffe://new.td/ns/foo/sa/sleep' })).allowed, true);
  assert.equal(e.decide(requestInput({ principal: 'spiffe://old.td/ns/foo/sa/sleep' })).allowed, true);
  assert.equal(e.decide(requestInput({ principal: 'spiffe://evil.td/ns/foo/sa/sleep' })).allowed, false);
});

test('fields inside one source are ANDed, sources and values are ORed, when conditions are ANDed', () => {
  const e = engineFor(allowRule(`  - from:
    - source: {namespaces: ["foo"], ipBlocks: ["10.1.0.0/16"]}
    - source: {principals: ["cluster.local/ns/bar/sa/other"]}
    to:
    - operation: {methods: ["GET", "HEAD"]}
    when:
    - {key: "request.headers[a]", values: ["1"]}
    - {key: "request.headers[b]", values: ["2"]}`));
  const ok = { principal: SLEEP, remoteAddress: '10.1.0.1', headers: [['a', '1'], ['b', '2']] as const };
  assert.equal(e.decide(requestInput(ok)).allowed, true);
  assert.equal(e.decide(requestInput({ ...ok, method: 'HEAD' })).allowed, true);
  assert.equal(e.decide(requestInput({ ...ok, remoteAddress: '10.9.0.1' })).allowed, false, 'both fields of the first source');
  assert.equal(e.decide(requestInput({ ...ok, principal: OTHER, remoteAddress: '10.9.0.1' })).allowed, true, 'the second source');
  assert.equal(e.decide(requestInput({ ...ok, method: 'POST' })).allowed, false);
  assert.equal(e.decide(requestInput({ ...ok, headers: [['a', '1']] })).allowed, false, 'every when');
  const both = engineFor(allowRule(op('methods: ["GET"]\n        notMethods: ["GET"]')));
  assert.equal(both.decide(requestInput({})).allowed, false, 'X and notX both apply');
});

interface OrderCase {
  readonly name: string;
  readonly yaml: string;
  readonly request: RequestSpec;
  readonly allowed: boolean;
  readonly policyId: string | undefined;
}

const deny = (name: string, rules: string, extra = ''): string => policyYaml(name, `  action: DENY\n  rules:\n${rules}`, extra);
const allow = (name: string, rules: string | undefined, extra = ''): string => policyYaml(name, rules === undefined ? '  action: ALLOW' : `  rules:\n${rules}`, extra);
const DRY = '\n  annotations:\n    istio.io/dry-run: "true"';

const orderCases: ReadonlyArray<OrderCase> = [
  { name: 'no policy: allow', yaml: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: foo}\n', request: {}, allowed: true, policyId: undefined },
  { name: 'only a DENY that does not match: allow', yaml: deny('d', op('methods: ["DELETE"]')), request: {}, allowed: true, policyId: undefined },
  { name: 'DENY matches: 403 naming the rule', yaml: deny('d', `${op('methods: ["POST"]')}\n${op('methods: ["GET"]')}`), request: {}, allowed: false, policyId: 'ns[foo]-policy[d]-rule[1]' },
  { name: 'DENY wins over a matching ALLOW', yaml: `${deny('d', op('paths: ["/x"]'))}---\n${allow('a', '  - {}')}`, request: { path: '/x' }, allowed: false, policyId: 'ns[foo]-policy[d]-rule[0]' },
  { name: 'an ALLOW applies but none matches: deny, policy none', yaml: allow('a', op('methods: ["POST"]')), request: {}, allowed: false, policyId: 'none' },
  { name: 'rules absent (ALLOW): allow nothing', yaml: allow('a', undefined), request: {}, allowed: false, policyId: 'none' },
  { name: 'rules: [{}] (ALLOW): allow everything', yaml: allow('a', '  - {}'), request: {}, allowed: true, policyId: 'ns[foo]-policy[a]-rule[0]' },
  { name: 'DENY with rules: [{}] denies everything', yaml: deny('d', '  - {}'), request: {}, allowed: false, policyId: 'ns[foo]-policy[d]-rule[0]' },
  { name: 'two ALLOW policies: either matches', yaml: `${allow('a', op('methods: ["POST"]'))}---\n${allow('b', op('methods: ["GET"]'))}`, request: {}, allowed: true, policyId: 'ns[foo]-policy[b]-rule[0]' },
  { name: 'first matching id in Envoy (string) order is reported', yaml: deny('d', Array.from({ length: 11 }, () => '  - {}').join('\n')), request: {}, allowed: false, policyId: 'ns[foo]-policy[d]-rule[0]' },
  { name: 'dry-run DENY is not enforced', yaml: deny('d', '  - {}', DRY), request: {}, allowed: true, policyId: undefined },
  { name: 'dry-run ALLOW does not make ALLOW the default', yaml: allow('a', op('methods: ["POST"]'), DRY), request: {}, allowed: true, policyId: undefined },
  { name: 'AUDIT never decides', yaml: policyYaml('au', '  action: AUDIT\n  rules:\n  - {}'), request: {}, allowed: true, policyId: undefined },
];

for (const c of orderCases) {
  test(`order: ${c.name}`, () => {
    const d = engineFor(c.yaml).decide(requestInput(c.request));
    assert.deepEqual(d, { allowed: c.allowed, policyId: c.policyId });
  });
}

test('dry-run and AUDIT results are recorded by the shadow trace', () => {
  const e = engineFor(`${deny('d', op('methods: ["GET"]'), DRY)}---\n${allow('a', op('methods: ["POST"]'), DRY)}---\n${policyYaml('au', '  action: AUDIT\n  rules:\n  - to: [{operation: {paths: ["/audit"]}}]')}`);
  assert.equal(e.hasShadow, true);
  assert.deepEqual(e.trace(requestInput({ path: '/audit' })), {
    audit: 'ns[foo]-policy[au]-rule[0]',
    dryRunDeny: { engine: 'denied', policyId: 'ns[foo]-policy[d]-rule[0]' },
    dryRunAllow: { engine: 'denied', policyId: undefined },
  });
  assert.deepEqual(e.trace(requestInput({ method: 'POST' })).dryRunAllow, { engine: 'allowed', policyId: 'ns[foo]-policy[a]-rule[0]' });
});

interface TcpCase {
  readonly name: string;
  readonly yaml: string;
  readonly conn: RequestSpec;
  readonly allowed: boolean;
}

const tcpCases: ReadonlyArray<TcpCase> = [
  { name: 'ALLOW rule with methods never matches on TCP', yaml: allow('a', op('methods: ["GET"]\n        ports: ["5432"]')), conn: { port: 5432 }, allowed: false },
  { name: 'ALLOW rule with only L4 attributes matches on TCP', yaml: allow('a', `${op('ports: ["5432"]')}\n    from: [{source: {namespaces: ["foo"]}}]`), conn: { port: 5432, principal: SLEEP }, allowed: true },
  { name: 'ALLOW: the L4-only rule still matches next to an HTTP rule', yaml: allow('a', `${op('paths: ["/x"]')}\n${op('ports: ["5432"]')}`), conn: { port: 5432 }, allowed: true },
  { name: 'DENY methods+ports: the HTTP part is dropped, the port denied', yaml: deny('d', op('methods: ["POST"]\n        ports: ["5432"]')), conn: { port: 5432 }, allowed: false },
  { name: 'DENY methods+ports: another port is not affected', yaml: deny('d', op('methods: ["POST"]\n        ports: ["5432"]')), conn: { port: 6379 }, allowed: true },
  { name: 'DENY with only HTTP attributes denies all TCP', yaml: deny('d', when('request.headers[x]', '["1"]')), conn: {}, allowed: false },
  { name: 'DENY requestPrincipals: widened on TCP', yaml: deny('d', src('requestPrincipals: ["*"]')), conn: {}, allowed: false },
];

for (const c of tcpCases) {
  test(`tcp: ${c.name}`, () => {
    assert.equal(engineFor(c.yaml, 'tcp').decide(connectionInput(c.conn)).allowed, c.allowed);
  });
}
