import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../config/diagnostics.js';
import { parseConfigText } from '../config/source/yaml-documents.js';
import type { ConnectionContext } from './connection-context.js';
import { compileDecisionHeader } from './decision-header-config.js';

function gateway(annotations: Readonly<Record<string, string>>) {
  const lines = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  const text = `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: waypoint\n  namespace: default\n${lines.length === 0 ? '' : `  annotations:\n${lines.join('\n')}\n`}spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}\n`;
  const parsed = parseConfigText(text, 'gw.yaml', 0);
  const raw = parsed.resources[0];
  assert.ok(raw !== undefined, JSON.stringify(parsed.diagnostics));
  return raw;
}

const conn = (remoteAddress: string, peerPrincipal?: string): ConnectionContext => ({ listenerKey: '127.0.0.1:80', remoteAddress, remotePort: 1, sourceNamespace: undefined, peerPrincipal });

const ON = 'waypoint.dev/decision-header';
const TRUSTED = 'waypoint.dev/decision-header-trusted';

const cases: ReadonlyArray<{
  name: string;
  annotations: Readonly<Record<string, string>>;
  enabled: boolean;
  warning?: RegExp;
  trusted?: ReadonlyArray<ConnectionContext>;
  untrusted?: ReadonlyArray<ConnectionContext>;
}> = [
  { name: 'off by default', annotations: {}, enabled: false },
  { name: 'explicitly off', annotations: { [ON]: 'false', [TRUSTED]: '10.0.0.0/8' }, enabled: false },
  { name: 'trusted list without the switch: warned, off', annotations: { [TRUSTED]: '10.0.0.0/8' }, enabled: false, warning: /no effect without/ },
  { name: 'on without trusted sources: warned, off', annotations: { [ON]: 'true' }, enabled: false, warning: /no trusted source/ },
  { name: 'not a boolean: warned, off', annotations: { [ON]: 'yes', [TRUSTED]: '10.0.0.0/8' }, enabled: false, warning: /must be "true" or "false"/ },
  { name: 'a bad entry turns it off (fail closed)', annotations: { [ON]: 'true', [TRUSTED]: '10.0.0.0/8, example.com' }, enabled: false, warning: /"example.com" is neither a CIDR nor a spiffe/ },
  { name: 'a star inside a SPIFFE ID is refused', annotations: { [ON]: 'true', [TRUSTED]: 'spiffe://td/ns/*/sa/x' }, enabled: false, warning: /not a SPIFFE ID/ },
  {
    name: 'CIDRs (v4 and v6) and SPIFFE IDs, exact and prefix',
    annotations: { [ON]: 'true', [TRUSTED]: '10.1.0.0/16, ::1, spiffe://cluster.local/ns/ops/sa/debug, spiffe://cluster.local/ns/sre/*' },
    enabled: true,
    trusted: [conn('10.1.2.3'), conn('::ffff:10.1.9.9'), conn('::1'), conn('192.168.0.1', 'spiffe://cluster.local/ns/ops/sa/debug'), conn('192.168.0.1', 'spiffe://cluster.local/ns/sre/sa/any')],
    untrusted: [conn('10.2.0.1'), conn('127.0.0.1'), conn('192.168.0.1', 'spiffe://cluster.local/ns/ops/sa/debugger'), conn('192.168.0.1', 'spiffe://cluster.local/ns/srex/sa/a'), conn('not-an-ip')],
  },
];

for (const c of cases) {
  test(`decision header config: ${c.name}`, () => {
    const diagnostics: Diagnostic[] = [];
    const policy = compileDecisionHeader(gateway(c.annotations), diagnostics);
    assert.equal(policy !== undefined, c.enabled);
    if (c.warning === undefined) assert.deepEqual(diagnostics, []);
    else {
      assert.equal(diagnostics.length, 1);
      assert.equal(diagnostics[0]?.severity, 'warning');
      assert.equal(diagnostics[0]?.resource, 'Gateway default/waypoint');
      assert.match(diagnostics[0]?.path ?? '', /^metadata\.annotations/);
      assert.equal(typeof diagnostics[0]?.line, 'number');
      assert.match(diagnostics[0]?.message ?? '', c.warning);
    }
    for (const t of c.trusted ?? []) assert.equal(policy?.trusts(t), true, `${t.remoteAddress} ${t.peerPrincipal ?? ''}`);
    for (const t of c.untrusted ?? []) assert.equal(policy?.trusts(t), false, `${t.remoteAddress} ${t.peerPrincipal ?? ''}`);
  });
}
