// `waypoint validate` on AuthorizationPolicies: for each policy where it is enforced (this waypoint, another
// waypoint, ztunnel, nowhere) and why, and each bad input of issue #7 (unknown condition key, malformed
// CIDR, wildcards in forbidden positions, targetRefs with a namespace or to a missing object, selector with
// targetRefs, CUSTOM without a provider or with an unknown one) rejected or reported with its field.
// The whole text output is compared with authz-validate.golden.txt; regenerate with UPDATE_GOLDEN=1.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validateCommand } from '../../src/cli/validate-command.js';

// Tests run from dist/test/e2e/; the fixture and golden live in the source tree.
const HERE = fileURLToPath(new URL('../../../test/e2e/', import.meta.url));
const FIXTURE = `${HERE}authz-validate.fixture.yaml`;
const GOLDEN = `${HERE}authz-validate.golden.txt`;

async function validate(output: 'text' | 'json'): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await validateCommand({ config: [FIXTURE], waypoint: 'shop/waypoint', clusterDomain: 'cluster.local', meshConfigFile: `${HERE}authz-validate.mesh.yaml`, output }, (s) => {
    out += s;
  });
  return { code, out: out.replaceAll(HERE, '<dir>/') };
}

test('waypoint validate: AuthorizationPolicy enforcement and bad input, as text (golden)', async () => {
  const { code, out } = await validate('text');
  assert.equal(code, 1, 'rejected policies are errors');
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(GOLDEN, out);
  assert.ok(existsSync(GOLDEN), 'run with UPDATE_GOLDEN=1 to create the golden file, then review it');
  assert.equal(out, readFileSync(GOLDEN, 'utf8'));
});

interface PolicyView {
  readonly name: string;
  readonly enforcedBy: string;
  readonly reason: string;
  readonly conditions: ReadonlyArray<{ readonly type: string; readonly status: string; readonly reason: string }>;
}

interface Expectation {
  readonly name: string;
  readonly enforcedBy: 'this-waypoint' | 'other-waypoint' | 'ztunnel' | 'nowhere';
  readonly condition: string;
  /** Diagnostics of this policy: `severity code path`. */
  readonly diagnostics: ReadonlyArray<string>;
}

const expected: ReadonlyArray<Expectation> = [
  { name: 'cart-allow', enforcedBy: 'this-waypoint', condition: 'WaypointAccepted=True Accepted', diagnostics: [] },
  { name: 'gateway-deny', enforcedBy: 'this-waypoint', condition: 'WaypointAccepted=True Accepted', diagnostics: [] },
  { name: 'class-audit', enforcedBy: 'this-waypoint', condition: 'WaypointAccepted=True Accepted', diagnostics: [] },
  { name: 'cart-dry-run', enforcedBy: 'this-waypoint', condition: 'WaypointAccepted=True Accepted', diagnostics: [] },
  { name: 'cart-custom', enforcedBy: 'this-waypoint', condition: 'WaypointAccepted=True Accepted', diagnostics: [] },
  { name: 'cart-custom-unknown', enforcedBy: 'this-waypoint', condition: 'WaypointAccepted=True Accepted', diagnostics: ['error ext-authz-provider spec.provider.name'] },
  { name: 'billing-allow', enforcedBy: 'other-waypoint', condition: 'WaypointAccepted=True Accepted', diagnostics: [] },
  { name: 'missing-target', enforcedBy: 'nowhere', condition: 'WaypointAccepted=False TargetNotFound', diagnostics: ['warning policy-target-not-found spec.targetRefs[0]'] },
  { name: 'unbound-target', enforcedBy: 'nowhere', condition: 'WaypointAccepted=False AncestorNotBound', diagnostics: ['warning policy-target-not-bound spec.targetRefs[0]'] },
  { name: 'class-wrong-namespace', enforcedBy: 'nowhere', condition: 'WaypointAccepted=False Invalid', diagnostics: ['warning policy-target-invalid spec.targetRefs[0]'] },
  { name: 'partly', enforcedBy: 'this-waypoint', condition: 'WaypointAccepted=True PartiallyInvalid', diagnostics: ['warning policy-target-not-found spec.targetRefs[1]'] },
  { name: 'selector-allow', enforcedBy: 'ztunnel', condition: 'ZtunnelAccepted=True UnsupportedValue', diagnostics: ['warning policy-for-ztunnel spec.selector'] },
  { name: 'namespace-deny', enforcedBy: 'ztunnel', condition: 'ZtunnelAccepted=True UnsupportedValue', diagnostics: ['warning policy-for-ztunnel spec.rules'] },
  { name: 'bad-key', enforcedBy: 'this-waypoint', condition: 'WaypointAccepted=False Invalid', diagnostics: ['error policy-rejected ', 'error * spec.rules[0].when[0].key'] },
  { name: 'bad-cidr', enforcedBy: 'nowhere', condition: 'WaypointAccepted=False Invalid', diagnostics: ['error policy-rejected ', 'error * spec.rules[0].from[0].source.ipBlocks[0]'] },
  { name: 'bad-wildcards', enforcedBy: 'nowhere', condition: 'WaypointAccepted=False Invalid', diagnostics: ['error policy-rejected ', 'error * spec.rules[0].to[0].operation.hosts[0]', 'error * spec.rules[0].to[0].operation.paths[0]', 'error * spec.rules[0].when[0].values'] },
  { name: 'cross-namespace', enforcedBy: 'nowhere', condition: 'WaypointAccepted=False Invalid', diagnostics: ['error policy-rejected ', 'error * spec.targetRefs[0].namespace'] },
  { name: 'both', enforcedBy: 'nowhere', condition: 'WaypointAccepted=False Invalid', diagnostics: ['error policy-rejected ', 'error * spec.selector'] },
  { name: 'custom-no-provider', enforcedBy: 'this-waypoint', condition: 'WaypointAccepted=False Invalid', diagnostics: ['error policy-rejected ', 'error * spec.provider'] },
];

test('waypoint validate -o json: each policy\'s enforcement point, condition and diagnostics', async () => {
  const { code, out } = await validate('json');
  assert.equal(code, 1);
  const r = JSON.parse(out) as { status: { authorizationPolicies: PolicyView[] }; diagnostics: Array<{ resource: string; severity: string; code: string; path?: string }> };
  const byName = new Map(r.status.authorizationPolicies.map((p) => [p.name, p]));
  assert.deepEqual([...byName.keys()].sort(), expected.map((e) => e.name).sort(), 'every policy has a status');
  for (const e of expected) {
    const p = byName.get(e.name);
    assert.equal(p?.enforcedBy, e.enforcedBy, e.name);
    assert.deepEqual(p.conditions.map((c) => `${c.type}=${c.status} ${c.reason}`), [e.condition], e.name);
    assert.ok(p.reason.length > 0, `${e.name} says why`);
    const diags = r.diagnostics.filter((d) => d.resource === `AuthorizationPolicy shop/${e.name}`)
      .map((d) => `${d.severity} ${d.code.startsWith('policy-') || d.code.startsWith('ext-authz') ? d.code : '*'} ${d.path ?? ''}`).sort();
    assert.deepEqual(diags, [...e.diagnostics].sort(), e.name);
  }
});
