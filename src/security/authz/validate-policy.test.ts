// Bad AuthorizationPolicies are rejected whole with Istio's words, pointing at the field at fault; the
// ztunnel view of selector policies shows the L4 fallback (ALLOW rules dropped, DENY rules widened).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { policiesFrom, policyYaml } from './test-support.js';
import { ztunnelView } from './ztunnel-fallback.js';

interface BadCase {
  readonly name: string;
  readonly spec: string;
  readonly path: string;
  readonly message: RegExp;
}

const badCases: ReadonlyArray<BadCase> = [
  { name: 'unknown condition key', spec: '  rules:\n  - when: [{key: request.foo, values: ["x"]}]', path: 'spec.rules[0].when[0].key', message: /unknown attribute: request\.foo/ },
  { name: 'header key without brackets', spec: '  rules:\n  - when: [{key: request.headers, values: ["x"]}]', path: 'spec.rules[0].when[0].key', message: /should have format a\[b\]/ },
  { name: 'replaced attribute destination.labels', spec: '  rules:\n  - when: [{key: "destination.labels[app]", values: ["x"]}]', path: 'spec.rules[0].when[0].key', message: /replaced by the workload selector/ },
  { name: 'condition without values', spec: '  rules:\n  - when: [{key: source.ip}]', path: 'spec.rules[0].when[0]', message: /at least one of `values` or `notValues`/ },
  { name: 'malformed CIDR in ipBlocks', spec: '  rules:\n  - from: [{source: {ipBlocks: ["10.0.0.0/33"]}}]', path: 'spec.rules[0].from[0].source.ipBlocks[0]', message: /bad CIDR range \(10\.0\.0\.0\/33\)/ },
  { name: 'malformed IP in a when value', spec: '  rules:\n  - when: [{key: source.ip, values: ["10.0.0.300"]}]', path: 'spec.rules[0].when[0].values', message: /bad IP address/ },
  { name: 'bad port', spec: '  rules:\n  - to: [{operation: {ports: ["http"]}}]', path: 'spec.rules[0].to[0].operation.ports[0]', message: /bad port \(http\)/ },
  { name: 'bad destination.port', spec: '  rules:\n  - when: [{key: destination.port, values: ["70000"]}]', path: 'spec.rules[0].when[0].values', message: /bad port/ },
  { name: 'wildcard in the middle', spec: '  rules:\n  - to: [{operation: {paths: ["/a/*/b"]}}]', path: 'spec.rules[0].to[0].operation.paths[0]', message: /wildcard is only supported/ },
  { name: 'wildcard at both ends', spec: '  rules:\n  - from: [{source: {principals: ["*foo*"]}}]', path: 'spec.rules[0].from[0].source.principals[0]', message: /wildcard is only supported/ },
  { name: 'wildcard in serviceAccounts', spec: '  rules:\n  - from: [{source: {serviceAccounts: ["foo/*"]}}]', path: 'spec.rules[0].from[0].source.serviceAccounts[0]', message: /wildcards are not supported/ },
  { name: 'serviceAccounts with principals', spec: '  rules:\n  - from: [{source: {serviceAccounts: ["sa"], principals: ["x"]}}]', path: 'spec.rules[0].from[0].source', message: /cannot be set with principals or namespaces/ },
  { name: 'bad path template', spec: '  rules:\n  - to: [{operation: {paths: ["/a/{**}/{*}"]}}]', path: 'spec.rules[0].to[0].operation.paths[0]', message: /must be the last operator/ },
  { name: 'named path variable', spec: '  rules:\n  - to: [{operation: {paths: ["/a/{id}"]}}]', path: 'spec.rules[0].to[0].operation.paths[0]', message: /unsupported path template/ },
  { name: 'empty value', spec: '  rules:\n  - to: [{operation: {methods: [""]}}]', path: 'spec.rules[0].to[0].operation.methods[0]', message: /empty value not allowed/ },
  { name: 'empty source', spec: '  rules:\n  - from: [{source: {}}]', path: 'spec.rules[0].from[0].source', message: /`from.source` must not be empty/ },
  { name: 'empty operation', spec: '  rules:\n  - to: [{operation: {}}]', path: 'spec.rules[0].to[0].operation', message: /`to.operation` must not be empty/ },
  { name: 'from: []', spec: '  rules:\n  - from: []', path: 'spec.rules[0].from', message: /`from` must not be empty/ },
  { name: 'targetRefs with a namespace', spec: '  targetRefs: [{kind: Service, group: "", name: web, namespace: other}]\n  rules: [{}]', path: 'spec.targetRefs[0].namespace', message: /cross namespace referencing is not currently supported/ },
  { name: 'unsupported targetRef kind', spec: '  targetRefs: [{kind: Pod, group: "", name: web}]\n  rules: [{}]', path: 'spec.targetRefs[0].kind', message: /unsupported targetRef core\/Pod/ },
  { name: 'selector and targetRefs together', spec: '  selector: {matchLabels: {app: web}}\n  targetRefs: [{kind: Service, group: "", name: web}]\n  rules: [{}]', path: 'spec.selector', message: /only one of targetRefs or selector/ },
  { name: 'CUSTOM without provider', spec: '  action: CUSTOM\n  rules: [{}]', path: 'spec.provider', message: /`provider.name` must not be empty/ },
  { name: 'CUSTOM without rules', spec: '  action: CUSTOM\n  provider: {name: ext}', path: 'spec.rules', message: /CUSTOM action without `rules` is meaningless/ },
  { name: 'CUSTOM with principals', spec: '  action: CUSTOM\n  provider: {name: ext}\n  rules:\n  - from: [{source: {principals: ["a"]}}]', path: 'spec.rules[0].from[0].source.principals', message: /not supported with CUSTOM action/ },
  { name: 'provider with ALLOW', spec: '  provider: {name: ext}\n  rules: [{}]', path: 'spec.provider', message: /must not be with non CUSTOM action, found ALLOW/ },
  { name: 'DENY without rules', spec: '  action: DENY', path: 'spec.rules', message: /DENY action without `rules` is meaningless/ },
  { name: 'unknown action', spec: '  action: PERMIT', path: 'spec.action', message: /must be one of "ALLOW", "DENY", "AUDIT", "CUSTOM"/ },
  { name: 'unknown field', spec: '  rules:\n  - to: [{operation: {method: ["GET"]}}]', path: 'spec.rules[0].to[0].operation.method', message: /unknown field "method"/ },
];

for (const c of badCases) {
  test(`rejected: ${c.name}`, () => {
    const { policies, diagnostics } = policiesFrom(policyYaml('bad', c.spec));
    assert.deepEqual(policies, [], 'the whole policy is rejected');
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const hit = errors.find((d) => d.path === c.path && c.message.test(d.message));
    assert.ok(hit, `expected an error at ${c.path} matching ${c.message}; got ${JSON.stringify(errors.map((d) => [d.path, d.message]))}`);
    assert.equal(hit.resource, 'AuthorizationPolicy foo/bad');
    assert.ok((hit.line ?? 0) > 0);
  });
}

const goodCases: ReadonlyArray<{ name: string; spec: string }> = [
  { name: 'no spec at all (ALLOW, allow nothing)', spec: '  {}' },
  { name: 'every field', spec: `  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  rules:
  - from:
    - source: {principals: ["*"], notPrincipals: ["a/*"], requestPrincipals: ["iss/*"], notRequestPrincipals: ["*/bad"], namespaces: ["a"], notNamespaces: ["b*"],
               ipBlocks: ["10.0.0.0/8"], notIpBlocks: ["10.1.0.0/16"], remoteIpBlocks: ["::1"], notRemoteIpBlocks: ["fd00::/8"], trustDomains: ["td"], notTrustDomains: ["*"]}
    - source: {serviceAccounts: ["ns/sa", "sa"], notServiceAccounts: ["x/y"]}
    to:
    - operation: {hosts: ["a.com", "a.com:*"], notHosts: ["*.b.com"], ports: ["80"], notPorts: ["81"], methods: ["GET"], notMethods: ["POST"], paths: ["/a", "/b/*", "*.c", "/d/{*}/e/{**}"], notPaths: ["/x"]}
    when:
    - {key: "request.headers[x]", values: ["a"], notValues: ["b"]}
    - {key: "request.auth.claims[a][b]", values: ["c"]}
    - {key: connection.sni, values: ["*.com"]}
    - {key: "experimental.envoy.filters.network.mysql_proxy[db.table]", values: ["[update]"]}` },
];

for (const c of goodCases) {
  test(`accepted: ${c.name}`, () => {
    const { policies, diagnostics } = policiesFrom(policyYaml('good', c.spec));
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.path}: ${d.message}`), []);
    assert.equal(policies.length, 1);
  });
}

interface ZtunnelCase {
  readonly name: string;
  readonly spec: string;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly effects: ReadonlyArray<string>;
  readonly message: RegExp;
}

const ztunnelCases: ReadonlyArray<ZtunnelCase> = [
  { name: 'L4-only ALLOW is enforced as written', spec: '  selector: {matchLabels: {app: web}}\n  rules:\n  - from: [{source: {namespaces: ["foo"]}}]', status: 'True', reason: 'Accepted', effects: ['enforced'], message: /^attached to ztunnel$/ },
  { name: 'ALLOW with methods: the rule is dropped', spec: '  selector: {matchLabels: {app: web}}\n  rules:\n  - to: [{operation: {methods: ["GET"]}}]\n  - from: [{source: {namespaces: ["foo"]}}]', status: 'True', reason: 'UnsupportedValue', effects: ['dropped', 'enforced'], message: /found: methods\)\. .* rules matching HTTP attributes are omitted/ },
  { name: 'DENY methods+ports: widened to the port', spec: '  action: DENY\n  rules:\n  - to: [{operation: {methods: ["POST"], ports: ["8080"]}}]', status: 'True', reason: 'UnsupportedValue', effects: ['widened'], message: /enforced without the HTTP rules\. This will be more restrictive/ },
  { name: 'DENY with only HTTP attributes: no effect', spec: '  action: DENY\n  rules:\n  - to: [{operation: {paths: ["/admin"]}}]', status: 'True', reason: 'UnsupportedValue', effects: ['no-effect'], message: /has no enforceable rules at ztunnel and will have no effect/ },
  { name: 'CUSTOM is not supported by ztunnel', spec: '  action: CUSTOM\n  provider: {name: x}\n  rules: [{}]', status: 'False', reason: 'UnsupportedValue', effects: [], message: /ztunnel does not support the CUSTOM action/ },
];

for (const c of ztunnelCases) {
  test(`ztunnel: ${c.name}`, () => {
    const { policies } = policiesFrom(policyYaml('z', c.spec));
    const p = policies[0];
    assert.ok(p !== undefined);
    const v = ztunnelView('foo', 'z', p.spec, false, undefined);
    assert.equal(v.condition.type, 'ZtunnelAccepted');
    assert.equal(v.condition.status, c.status);
    assert.equal(v.condition.reason, c.reason);
    assert.match(v.condition.message, c.message);
    assert.deepEqual((v.rules ?? []).map((r) => r.effect), c.effects);
  });
}
