// Tests for WasmPlugin validation: every field's rule from Istio's API and CRD, each problem reported at its
// field with the resource rejected whole; and how urls are parsed into module locations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../source/yaml-documents.js';
import { validateResources } from '../validate/validate.js';
import { parseModuleLocation, reusesCachedModule } from '../../wasm/fetch/module-location.js';

function validate(spec: string, apiVersion = 'extensions.istio.io/v1alpha1') {
  const text = `apiVersion: ${apiVersion}\nkind: WasmPlugin\nmetadata: {name: wp, namespace: apps}\nspec:\n${spec}`;
  const parsed = parseConfigText(text, 'wp.yaml', 0);
  assert.deepEqual(parsed.diagnostics, []);
  return validateResources(parsed.resources);
}

const TARGET = '  targetRefs: [{kind: Service, group: "", name: svc}]\n';
const URL = '  url: file:///opt/filter.wasm\n';
const SHA = 'a'.repeat(64);

interface Case {
  readonly name: string;
  readonly spec: string;
  readonly apiVersion?: string;
  /** Expected [severity, path] of each diagnostic; the resource is accepted when none is an error. */
  readonly diagnostics: ReadonlyArray<[string, string | undefined]>;
}

const cases: ReadonlyArray<Case> = [
  { name: 'every field', spec: `${TARGET}  url: oci://registry.example.com/filters/add-header:1.0
  sha256: ${SHA}
  imagePullPolicy: Always
  imagePullSecret: regcred
  pluginName: add_header
  pluginConfig: {header: x-added, values: [1, 2], nested: {a: true}}
  phase: AUTHZ
  priority: 10
  failStrategy: FAIL_OPEN
  vmConfig: {env: [{name: A, value: "1"}, {name: HOME, valueFrom: HOST}]}
  match: [{mode: SERVER, ports: [{number: 80}]}]
  type: HTTP
`, diagnostics: [] },
  { name: 'http, https and bare OCI urls', spec: `${TARGET}  url: ghcr.io/acme/filter:v1\n`, diagnostics: [] },
  { name: 'https url', spec: `${TARGET}  url: https://plugins.example.com/f.wasm\n`, diagnostics: [] },
  { name: 'the deprecated targetRef', spec: `  targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}\n${URL}`, diagnostics: [] },
  { name: 'a bad url scheme', spec: `${TARGET}  url: ftp://plugins.example.com/f.wasm\n`, diagnostics: [['error', 'spec.url']] },
  { name: 'a url with spaces', spec: `${TARGET}  url: "oci://reg/a b"\n`, diagnostics: [['error', 'spec.url']] },
  { name: 'a file url without a path', spec: `${TARGET}  url: "file://"\n`, diagnostics: [['error', 'spec.url']] },
  { name: 'a missing url', spec: TARGET, diagnostics: [['error', 'spec.url']] },
  { name: 'sha256 in upper case', spec: `${TARGET}${URL}  sha256: ${SHA.toUpperCase()}\n`, diagnostics: [['error', 'spec.sha256']] },
  { name: 'sha256 too short', spec: `${TARGET}${URL}  sha256: abc123\n`, diagnostics: [['error', 'spec.sha256']] },
  { name: 'sha256 different from the digest in the url', spec: `${TARGET}  url: oci://reg.example.com/f@sha256:${'b'.repeat(64)}\n  sha256: ${SHA}\n`, diagnostics: [['error', 'spec.sha256']] },
  { name: 'an unknown phase', spec: `${TARGET}${URL}  phase: AUTHORIZATION\n`, diagnostics: [['error', 'spec.phase']] },
  { name: 'an unknown pull policy', spec: `${TARGET}${URL}  imagePullPolicy: Never\n`, diagnostics: [['error', 'spec.imagePullPolicy']] },
  { name: 'an unknown fail strategy', spec: `${TARGET}${URL}  failStrategy: FAIL_SOMETIMES\n`, diagnostics: [['error', 'spec.failStrategy']] },
  { name: 'a priority that is not an integer', spec: `${TARGET}${URL}  priority: 1.5\n`, diagnostics: [['error', 'spec.priority']] },
  { name: 'selector and targetRefs together', spec: `${TARGET}${URL}  selector: {matchLabels: {app: x}}\n`, diagnostics: [['error', 'spec.selector']] },
  { name: 'targetRef and targetRefs together', spec: `${TARGET}${URL}  targetRef: {kind: Service, group: "", name: svc}\n`, diagnostics: [['error', 'spec.targetRef']] },
  { name: 'a targetRef without a name', spec: `  targetRefs: [{kind: Service, group: ""}]\n${URL}`, diagnostics: [['error', 'spec.targetRefs[0].name']] },
  { name: 'a targetRef that is not an object', spec: `  targetRefs: [svc]\n${URL}`, diagnostics: [['error', 'spec.targetRefs[0]']] },
  { name: 'a Deployment target', spec: `  targetRefs: [{kind: Deployment, group: apps, name: x}]\n${URL}`, diagnostics: [['error', 'spec.targetRefs[0].kind']] },
  { name: 'a target in another namespace', spec: `  targetRefs: [{kind: Service, group: "", name: svc, namespace: other}]\n${URL}`, diagnostics: [['error', 'spec.targetRefs[0].namespace']] },
  { name: 'a HOST env var with a value', spec: `${TARGET}${URL}  vmConfig: {env: [{name: HOME, valueFrom: HOST, value: x}]}\n`, diagnostics: [['error', 'spec.vmConfig.env[0].value']] },
  { name: 'a duplicate env var', spec: `${TARGET}${URL}  vmConfig: {env: [{name: A, value: "1"}, {name: A, value: "2"}]}\n`, diagnostics: [['error', 'spec.vmConfig.env[1].name']] },
  { name: 'an unknown match mode', spec: `${TARGET}${URL}  match: [{mode: INBOUND}]\n`, diagnostics: [['error', 'spec.match[0].mode']] },
  { name: 'port 0 in a match', spec: `${TARGET}${URL}  match: [{ports: [{number: 0}]}]\n`, diagnostics: [['error', 'spec.match[0].ports[0].number']] },
  { name: 'an unknown plugin type', spec: `${TARGET}${URL}  type: LUA\n`, diagnostics: [['error', 'spec.type']] },
  { name: 'pluginConfig that is not an object', spec: `${TARGET}${URL}  pluginConfig: "x"\n`, diagnostics: [['error', 'spec.pluginConfig']] },
  { name: 'a misspelled field', spec: `${TARGET}${URL}  pluginConf: {}\n`, diagnostics: [['error', 'spec.pluginConf']] },
  { name: 'another apiVersion', apiVersion: 'extensions.istio.io/v1', spec: `${TARGET}${URL}`, diagnostics: [['error', 'apiVersion']] },
];

for (const c of cases) {
  test(`WasmPlugin: ${c.name}`, () => {
    const r = validate(c.spec, c.apiVersion);
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.path]), c.diagnostics, JSON.stringify(r.diagnostics.map((d) => d.message)));
    const rejected = c.diagnostics.some(([s]) => s === 'error');
    assert.equal(r.resources.wasmPlugins.length, rejected ? 0 : 1);
    assert.equal(r.rejected.length, rejected ? 1 : 0);
  });
}

const locations = [
  { url: 'file:///opt/plugins/f.wasm', expect: { kind: 'file', path: '/opt/plugins/f.wasm' } },
  { url: 'http://127.0.0.1:8080/f.wasm', expect: { kind: 'http', url: 'http://127.0.0.1:8080/f.wasm' } },
  { url: 'oci://127.0.0.1:5000/filters/add:1.0', expect: { kind: 'oci', registry: '127.0.0.1:5000', scheme: 'http:', repository: 'filters/add', reference: '1.0', referenceKind: 'tag' } },
  { url: 'ghcr.io/acme/filter', expect: { kind: 'oci', url: 'oci://ghcr.io/acme/filter', registry: 'ghcr.io', scheme: 'https:', repository: 'acme/filter', reference: 'latest' } },
  { url: 'nginx', expect: { kind: 'oci', registry: 'registry-1.docker.io', repository: 'library/nginx', reference: 'latest' } },
  { url: 'acme/filter:v2', expect: { kind: 'oci', registry: 'registry-1.docker.io', repository: 'acme/filter', reference: 'v2' } },
  { url: `oci://localhost:5000/f@sha256:${SHA}`, expect: { kind: 'oci', registry: 'localhost:5000', scheme: 'http:', repository: 'f', reference: `sha256:${SHA}`, referenceKind: 'digest' } },
  { url: 'oci://10.1.2.3/f:1', expect: { scheme: 'http:' } },
  { url: 'oci://192.168.1.1:443/f:1', expect: { scheme: 'http:' } },
  { url: 'oci://172.32.0.1/f:1', expect: { scheme: 'https:' } },
];

for (const c of locations) {
  test(`module location: ${c.url}`, () => {
    const loc = parseModuleLocation(c.url) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(c.expect)) assert.equal(loc[k], v, k);
  });
}

const policies = [
  { name: 'oci tag, unspecified policy: IfNotPresent', url: 'oci://r.io/f:1', policy: 'UNSPECIFIED_POLICY', sha: undefined, reuse: true },
  { name: 'oci :latest, unspecified policy: Always', url: 'oci://r.io/f:latest', policy: 'UNSPECIFIED_POLICY', sha: undefined, reuse: false },
  { name: 'oci :latest, IfNotPresent', url: 'oci://r.io/f:latest', policy: 'IfNotPresent', sha: undefined, reuse: true },
  { name: 'oci, Always', url: 'oci://r.io/f:1', policy: 'Always', sha: undefined, reuse: false },
  { name: 'http without sha256: fetched on every change', url: 'http://h/f.wasm', policy: 'IfNotPresent', sha: undefined, reuse: false },
  { name: 'http pinned by sha256', url: 'http://h/f.wasm', policy: 'UNSPECIFIED_POLICY', sha: SHA, reuse: true },
  { name: 'http pinned, Always', url: 'http://h/f.wasm', policy: 'Always', sha: SHA, reuse: false },
  { name: 'file: read on every change', url: 'file:///f.wasm', policy: 'IfNotPresent', sha: SHA, reuse: false },
] as const;

for (const c of policies) {
  test(`pull policy: ${c.name}`, () => {
    assert.equal(reusesCachedModule(parseModuleLocation(c.url), c.policy, c.sha), c.reuse);
  });
}
