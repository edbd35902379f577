// Conformance, part 5: bad HTTPRoutes over the wire. A rule that cannot be applied as written answers
// 500 (a filter "MUST NOT be skipped"), the route's status names the spec's reason in /config_dump, and
// the rest of the route and of the config keeps working.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Condition } from '../../src/config/status.js';
import { ConformanceMesh, type ExpectedResponse, expectResponse, meshRoute } from './fixture.js';

const toV1 = '    backendRefs:\n    - name: echo-v1\n      port: 80';

const ROUTES = [
  meshRoute('partly-invalid', 'echo', `  - matches: [{ path: { type: PathPrefix, value: /good } }]
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /extension } }]
    filters: [{ type: ExtensionRef, extensionRef: { group: example.com, kind: Magic, name: m } }]
${toV1}
  - matches: [{ path: { type: PathPrefix, value: /redirect-and-rewrite } }]
    filters:
    - { type: RequestRedirect, requestRedirect: { hostname: example.org } }
    - { type: URLRewrite, urlRewrite: { hostname: example.org } }
  - matches: [{ path: { type: PathPrefix, value: /timeouts } }]
    timeouts: { request: 1s, backendRequest: 5s }
${toV1}
  - matches: [{ path: { type: RegularExpression, value: "/regex(" } }]
${toV1}`),
  meshRoute('all-invalid', 'echo-v2', `  - filters: [{ type: NoSuchFilter }]
    backendRefs:
    - name: echo-v2
      port: 80`),
].join('');

let cm: ConformanceMesh;

before(async () => {
  cm = await ConformanceMesh.start(ROUTES);
});

after(async () => {
  await cm.close();
});

const cases: ExpectedResponse[] = [
  { name: 'the valid rule of a partly invalid route works', feature: 'HTTPRoute status', request: { path: '/good' }, backend: 'echo-v1' },
  { name: 'an ExtensionRef filter: 500, never skipped', feature: 'HTTPRoute status', request: { path: '/extension' }, status: 500 },
  { name: 'RequestRedirect with URLRewrite: 500', feature: 'HTTPRoute status', request: { path: '/redirect-and-rewrite' }, status: 500 },
  { name: 'backendRequest longer than request: 500', feature: 'HTTPRoute status', request: { path: '/timeouts' }, status: 500 },
  { name: 'a rule whose regex does not compile is dropped (no route: 404)', feature: 'HTTPRoute status', request: { path: '/regex(' }, status: 404 },
  { name: 'every rule invalid: requests get 500, not the Service default', feature: 'HTTPRoute status', request: { service: 'echo-v2', path: '/' }, status: 500 },
];

for (const c of cases) test(`${c.feature}: ${c.name}`, async () => void (await expectResponse(cm, c)));

async function conditions(route: string): Promise<ReadonlyArray<Condition>> {
  const dump = await (await fetch(`http://${cm.mesh.admin}/config_dump`)).json() as { status: { routes: Array<{ name: string; parents: Array<{ conditions: Condition[] }> }> } };
  return dump.status.routes.find((r) => r.name === route)?.parents[0]?.conditions ?? [];
}

test('HTTPRoute status: a partly invalid route is Accepted with PartiallyInvalid listing the dropped rules', async () => {
  const cs = await conditions('partly-invalid');
  const by = Object.fromEntries(cs.map((c) => [c.type, c]));
  assert.deepEqual([by['Accepted']?.status, by['Accepted']?.reason], ['True', 'Accepted']);
  assert.deepEqual([by['PartiallyInvalid']?.status, by['PartiallyInvalid']?.reason], ['True', 'UnsupportedValue']);
  const message = by['PartiallyInvalid']?.message ?? '';
  assert.match(message, /^Dropped Rule\(s\): 4 of 5 rules are invalid: /);
  for (const part of ['rule 1: unsupported filter type "ExtensionRef"', 'rule 2: May specify either', 'rule 3: backendRequest timeout (5s) cannot be longer than request timeout (1s)', 'rule 4: matches[0]']) {
    assert.ok(message.includes(part), `${part} in: ${message}`);
  }
});

test('HTTPRoute status: a route with no valid rule is not Accepted, with the reason of its first problem', async () => {
  const cs = await conditions('all-invalid');
  const accepted = cs.find((c) => c.type === 'Accepted');
  assert.deepEqual([accepted?.status, accepted?.reason], ['False', 'UnsupportedValue']);
  assert.match(accepted?.message ?? '', /unsupported filter type "NoSuchFilter"/);
  assert.equal(cs.find((c) => c.type === 'PartiallyInvalid'), undefined, 'PartiallyInvalid is never set on a fully invalid route');
});
