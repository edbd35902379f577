// End to end: AuthorizationPolicy identities from real HBONE tunnels (TLS 1.3 mTLS with certificates from the
// dev CA, HTTP/2 CONNECT), not injected: principals, namespaces, serviceAccounts and trustDomains on both
// the allow and the deny side; plain VIP traffic carries no identity; `source.ip`/ipBlocks come from the
// CONNECT's `Forwarded: for=` only when the tunnel's peer is trusted to state it; L4 policies on a TCP port.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { type Backend, startBackend } from '../harness/backends.js';
import { request } from '../harness/client.js';
import { meshPreamble, serviceYaml, vipRange } from '../harness/config.js';
import { createPki, type Svid, type TestPki } from '../harness/hbone-certs.js';
import { hboneConnect, openTunnel, tunnelRequest } from '../harness/hbone-client.js';
import { type HboneMesh, startHboneMesh } from '../harness/hbone-mesh.js';

const vip = vipRange();
const ZTUNNEL = 'spiffe://cluster.local/ns/istio-system/sa/ztunnel';
const SERVICES = ['by-principal', 'by-namespace', 'by-sa', 'by-td', 'deny-ns', 'deny-td', 'by-ip', 'by-when'] as const;
type Svc = (typeof SERVICES)[number];
const vipOf = (s: Svc | 'db'): string => (s === 'db' ? vip(20) : vip(SERVICES.indexOf(s) + 1));

const PRINCIPALS: Readonly<Record<string, string>> = {
  sleep: 'spiffe://cluster.local/ns/foo/sa/sleep', other: 'spiffe://cluster.local/ns/bar/sa/other', fooAdmin: 'spiffe://cluster.local/ns/foo/sa/admin', ztunnel: ZTUNNEL,
};

let pki: TestPki;
let mesh: HboneMesh;
let web: Backend;
let tcpEcho: net.Server;
const ids: Record<string, Svid> = {};

const onService = (svc: string): string => `  targetRefs:\n  - {kind: Service, group: "", name: ${svc}}\n`;
const policy = (name: string, spec: string): string =>
  `---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n${onService(name)}${spec}\n`;

before(async () => {
  pki = await createPki();
  for (const [name, uri] of Object.entries(PRINCIPALS)) ids[name] = await pki.issue(uri);
  web = await startBackend('web');
  tcpEcho = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', () => r()));
  const ep = [`127.0.0.1:${web.port}`];
  mesh = await startHboneMesh(pki, {
    'mesh.yaml': [
      meshPreamble(),
      ...SERVICES.map((name) => serviceYaml({ name, vip: vipOf(name), endpoints: ep })),
      serviceYaml({ name: 'db', vip: vipOf('db'), port: 5432, portName: 'tcp', endpoints: [`127.0.0.1:${(tcpEcho.address() as net.AddressInfo).port}`] }),
      policy('by-principal', '  rules:\n  - from: [{source: {principals: ["cluster.local/ns/foo/sa/sleep"]}}]'),
      policy('by-namespace', '  rules:\n  - from: [{source: {namespaces: ["foo"]}}]'),
      policy('by-sa', '  rules:\n  - from: [{source: {serviceAccounts: ["foo/admin"]}}]'),
      policy('by-td', '  rules:\n  - from: [{source: {trustDomains: ["cluster.local"]}}]'),
      policy('deny-ns', '  action: DENY\n  rules:\n  - from: [{source: {namespaces: ["bar"]}}]'),
      policy('deny-td', '  action: DENY\n  rules:\n  - from: [{source: {trustDomains: ["cluster.local"]}}]'),
      policy('by-ip', '  rules:\n  - from: [{source: {ipBlocks: ["10.244.0.0/16"]}}]'),
      policy('by-when', '  rules:\n  - when:\n    - {key: source.namespace, values: ["foo"]}\n    - {key: source.principal, notValues: ["cluster.local/ns/foo/sa/admin"]}'),
      policy('db', '  rules:\n  - from: [{source: {principals: ["cluster.local/ns/foo/sa/sleep"]}}]'),
    ].join('\n'),
  }, { settings: { trustForwardedFrom: [ZTUNNEL] } });
});

after(async () => {
  await mesh.close();
  await web.close();
  await new Promise<void>((r) => tcpEcho.close(() => r()));
  await pki.close();
});

const ALLOWED = 'via_upstream';
const NO_ALLOW = 'rbac_access_denied_matched_policy[none]';
const denyRule = (name: string): string => `rbac_access_denied_matched_policy[ns[default]-policy[${name}]-rule[0]]`;

interface IdentityCase {
  readonly name: string;
  /** The tunnel's client certificate; `plain` = no tunnel, straight to the Service VIP. */
  readonly as: 'sleep' | 'other' | 'fooAdmin' | 'ztunnel' | 'plain';
  readonly to: Svc;
  readonly forwarded?: string;
  readonly details: string;
}

const cases: ReadonlyArray<IdentityCase> = [
  { name: 'principals: the named workload is allowed', as: 'sleep', to: 'by-principal', details: ALLOWED },
  { name: 'principals: another workload is denied', as: 'other', to: 'by-principal', details: NO_ALLOW },
  { name: 'principals: plain VIP traffic has no principal and is denied', as: 'plain', to: 'by-principal', details: NO_ALLOW },
  { name: 'namespaces: any workload of the namespace', as: 'fooAdmin', to: 'by-namespace', details: ALLOWED },
  { name: 'namespaces: another namespace is denied', as: 'other', to: 'by-namespace', details: NO_ALLOW },
  { name: 'namespaces: no tunnel, no namespace', as: 'plain', to: 'by-namespace', details: NO_ALLOW },
  { name: 'serviceAccounts: the named account', as: 'fooAdmin', to: 'by-sa', details: ALLOWED },
  { name: 'serviceAccounts: another account of the same namespace is denied', as: 'sleep', to: 'by-sa', details: NO_ALLOW },
  { name: 'trustDomains: any peer of the trust domain', as: 'other', to: 'by-td', details: ALLOWED },
  { name: 'trustDomains: plain traffic has no trust domain', as: 'plain', to: 'by-td', details: NO_ALLOW },
  { name: 'DENY namespaces: the denied namespace', as: 'other', to: 'deny-ns', details: denyRule('deny-ns') },
  { name: 'DENY namespaces: another namespace passes', as: 'sleep', to: 'deny-ns', details: ALLOWED },
  { name: 'DENY namespaces: plain traffic is not in any namespace', as: 'plain', to: 'deny-ns', details: ALLOWED },
  { name: 'DENY trustDomains: every tunnel of the trust domain', as: 'sleep', to: 'deny-td', details: denyRule('deny-td') },
  { name: 'DENY trustDomains: plain traffic passes', as: 'plain', to: 'deny-td', details: ALLOWED },
  { name: 'when source.namespace + source.principal notValues: allowed', as: 'sleep', to: 'by-when', details: ALLOWED },
  { name: 'when source.principal notValues excludes that principal', as: 'fooAdmin', to: 'by-when', details: NO_ALLOW },
  { name: 'ipBlocks: a trusted peer (ztunnel) states the client address in Forwarded', as: 'ztunnel', to: 'by-ip', forwarded: 'for="10.244.1.7:40112"', details: ALLOWED },
  { name: 'ipBlocks: the same Forwarded from an untrusted peer is ignored (source is the tunnel peer)', as: 'sleep', to: 'by-ip', forwarded: 'for="10.244.1.7:40112"', details: NO_ALLOW },
  { name: 'ipBlocks: a trusted peer without Forwarded is its own source', as: 'ztunnel', to: 'by-ip', details: NO_ALLOW },
];

for (const c of cases) {
  test(`hbone identity: ${c.name}`, async () => {
    const before = mesh.records.length;
    let res: { status: number; body: string };
    if (c.as === 'plain') {
      res = await request(vipOf(c.to), 80, { path: '/x', headers: { host: `${c.to}.default` } });
    } else {
      const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: ids[c.as], ca: pki.ca });
      try {
        res = await tunnelRequest(session, `${vipOf(c.to)}:80`, { path: '/x', host: `${c.to}.default`, ...(c.forwarded === undefined ? {} : { connectHeaders: { forwarded: c.forwarded } }) });
      } finally {
        session.close();
      }
    }
    const rec = mesh.records.slice(before).at(-1);
    assert.equal(rec?.details, c.details);
    if (c.details === ALLOWED) assert.equal(res.status, 200);
    else assert.deepEqual([res.status, res.body], [403, 'RBAC: access denied']);
    // The identity really came from the tunnel's certificate (and only from it).
    assert.equal(rec?.conn.peerPrincipal, c.as === 'plain' ? undefined : PRINCIPALS[c.as]);
  });
}

/** Opens a tunnel to the TCP Service, writes `ping`, and reports what came back before the stream ended. */
async function tcpThroughTunnel(as: 'sleep' | 'other'): Promise<{ data: string; ended: boolean }> {
  const session = hboneConnect(mesh.hbone.host, mesh.hbone.port, { identity: ids[as], ca: pki.ca });
  try {
    const stream = await openTunnel(session, `${vipOf('db')}:5432`);
    return await new Promise((resolve) => {
      let data = '';
      const done = (ended: boolean): void => {
        clearTimeout(timer);
        stream.close();
        resolve({ data, ended });
      };
      // Generous: only bounds a broken run; a denial ends the stream at once.
      const timer = setTimeout(() => done(false), 5000);
      stream.on('data', (c: Buffer) => {
        data += c.toString();
        if (data === 'ping') done(false);
      });
      stream.once('end', () => done(true));
      stream.once('close', () => done(true));
      stream.once('error', () => done(true));
      stream.write('ping');
    });
  } finally {
    session.close();
  }
}

test('hbone identity on a TCP port: the allowed principal gets its bytes echoed', async () => {
  assert.deepEqual(await tcpThroughTunnel('sleep'), { data: 'ping', ended: false });
});

test('hbone identity on a TCP port: another principal is cut off before any byte is forwarded', async () => {
  assert.deepEqual(await tcpThroughTunnel('other'), { data: '', ended: true });
});
