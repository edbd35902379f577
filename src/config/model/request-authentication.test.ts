// Tests for RequestAuthentication validation: both apiVersions, Istio's field rules, and that each problem
// is reported at its field with the resource rejected whole.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../source/yaml-documents.js';
import { validateResources } from '../validate/validate.js';
import { durationToMs } from './request-authentication.js';

function validate(spec: string, apiVersion = 'security.istio.io/v1', namespace = 'apps') {
  const text = `apiVersion: ${apiVersion}\nkind: RequestAuthentication\nmetadata: {name: ra, namespace: ${namespace}}\nspec:\n${spec}`;
  const parsed = parseConfigText(text, 'ra.yaml', 0);
  assert.deepEqual(parsed.diagnostics, []);
  return validateResources(parsed.resources);
}

const TARGET = '  targetRefs: [{kind: Service, group: "", name: svc}]\n';

interface Case {
  readonly name: string;
  readonly spec: string;
  readonly apiVersion?: string;
  /** Expected [severity, path] of each diagnostic; the resource is accepted when none is an error. */
  readonly diagnostics: ReadonlyArray<[string, string | undefined]>;
}

const cases: ReadonlyArray<Case> = [
  { name: 'a complete v1 policy', spec: `${TARGET}  jwtRules:
    - issuer: https://issuer.example.com
      audiences: [a, b]
      jwksUri: https://issuer.example.com/jwks
      fromHeaders: [{name: x-jwt, prefix: "Bearer "}]
      fromParams: [token]
      fromCookies: [session]
      outputPayloadToHeader: x-payload
      forwardOriginalToken: true
      outputClaimToHeaders: [{header: x-sub, claim: sub}]
      timeout: 1.5s
      spaceDelimitedClaims: [roles]
`, diagnostics: [] },
  { name: 'v1beta1', apiVersion: 'security.istio.io/v1beta1', spec: `${TARGET}  jwtRules: [{issuer: i}]\n`, diagnostics: [] },
  { name: 'v1alpha1 is not an API version of this kind', apiVersion: 'security.istio.io/v1alpha1', spec: `${TARGET}`, diagnostics: [['error', 'apiVersion']] },
  { name: 'empty issuer', spec: `${TARGET}  jwtRules: [{issuer: ""}]\n`, diagnostics: [['error', 'spec.jwtRules[0].issuer']] },
  { name: 'missing issuer', spec: `${TARGET}  jwtRules: [{jwksUri: "https://x/jwks"}]\n`, diagnostics: [['error', 'spec.jwtRules[0].issuer']] },
  { name: 'jwksUri that is not http(s)', spec: `${TARGET}  jwtRules: [{issuer: i, jwksUri: "ftp://x/jwks"}]\n`, diagnostics: [['error', 'spec.jwtRules[0].jwksUri']] },
  { name: 'inline jwks that is not JSON', spec: `${TARGET}  jwtRules: [{issuer: i, jwks: "{keys"}]\n`, diagnostics: [['error', 'spec.jwtRules[0].jwks']] },
  { name: 'inline jwks without keys', spec: `${TARGET}  jwtRules: [{issuer: i, jwks: "{}"}]\n`, diagnostics: [['error', 'spec.jwtRules[0].jwks']] },
  { name: 'both jwks and jwksUri: jwks wins, with a warning', spec: `${TARGET}  jwtRules: [{issuer: i, jwks: '{"keys":[]}', jwksUri: "https://x/jwks"}]\n`, diagnostics: [['warning', 'spec.jwtRules[0].jwksUri']] },
  { name: 'claim header name outside [-_A-Za-z0-9]', spec: `${TARGET}  jwtRules: [{issuer: i, outputClaimToHeaders: [{header: "x sub", claim: sub}]}]\n`, diagnostics: [['error', 'spec.jwtRules[0].outputClaimToHeaders[0].header']] },
  { name: 'empty cookie name', spec: `${TARGET}  jwtRules: [{issuer: i, fromCookies: [""]}]\n`, diagnostics: [['error', 'spec.jwtRules[0].fromCookies[0]']] },
  { name: 'zero timeout', spec: `${TARGET}  jwtRules: [{issuer: i, timeout: 0s}]\n`, diagnostics: [['error', 'spec.jwtRules[0].timeout']] },
  { name: 'misspelled field', spec: `${TARGET}  jwtRules: [{issuer: i, audience: [a]}]\n`, diagnostics: [['error', 'spec.jwtRules[0].audience']] },
  { name: 'selector and targetRefs together', spec: `${TARGET}  selector: {matchLabels: {app: x}}\n`, diagnostics: [['error', 'spec.selector']] },
  { name: 'a Deployment target', spec: '  targetRefs: [{kind: Deployment, group: apps, name: x}]\n', diagnostics: [['error', 'spec.targetRefs[0].kind']] },
  { name: 'a Gateway target without its group', spec: '  targetRefs: [{kind: Gateway, name: waypoint}]\n', diagnostics: [['error', 'spec.targetRefs[0].kind']] },
  { name: 'a target in another namespace', spec: '  targetRefs: [{kind: Service, group: "", name: svc, namespace: other}]\n', diagnostics: [['error', 'spec.targetRefs[0].namespace']] },
  { name: 'a target naming its own namespace', spec: '  targetRefs: [{kind: Service, group: "", name: svc, namespace: apps}]\n', diagnostics: [] },
];

for (const c of cases) {
  test(`RequestAuthentication: ${c.name}`, () => {
    const r = validate(c.spec, c.apiVersion);
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.path]), c.diagnostics, JSON.stringify(r.diagnostics.map((d) => d.message)));
    const rejected = c.diagnostics.some(([s]) => s === 'error');
    assert.equal(r.resources.requestAuthentications.length, rejected ? 0 : 1);
    assert.equal(r.rejected.length, rejected ? 1 : 0);
  });
}

test('durations: protobuf and Go forms', () => {
  assert.equal(durationToMs('5s'), 5000);
  assert.equal(durationToMs('1.5s'), 1500);
  assert.equal(durationToMs('250ms'), 250);
  assert.equal(durationToMs('1m30s'), 90_000);
});
