import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { createRootCa, issueSvid, type PemPair } from './dev-ca.js';
import { checkIdentity, IdentityError } from './identity.js';

const files = { certFile: 'cert.pem', keyFile: 'key.pem', trustBundleFile: 'bundle.pem', trustDomain: 'cluster.local' };
const ca = await createRootCa();
const otherCa = await createRootCa('other');
const good = await issueSvid(ca, { spiffe: 'spiffe://cluster.local/ns/default/sa/sleep' });
const HOUR = 3600_000;

test('dev CA: the workload certificate carries exactly the SPIFFE URI SAN and chains to the root', () => {
  const leaf = new X509Certificate(good.certPem);
  assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/default/sa/sleep');
  assert.equal(leaf.ca, false);
  assert.ok(leaf.checkIssued(new X509Certificate(ca.certPem)));
  const lifetime = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
  assert.ok(lifetime > 23 * HOUR && lifetime < 25 * HOUR, `24h lifetime, got ${lifetime / HOUR}h`);
  assert.equal(new X509Certificate(ca.certPem).ca, true);
});

test('dev CA: refuses a malformed SPIFFE ID', async () => {
  await assert.rejects(issueSvid(ca, { spiffe: 'spiffe://cluster.local/ns//sa/x' }), /is not a SPIFFE ID/);
});

const bad = async (): Promise<ReadonlyArray<{ name: string; svid: PemPair; bundle: string; want: RegExp | string }>> => [
  { name: 'valid', svid: good, bundle: ca.certPem, want: 'spiffe://cluster.local/ns/default/sa/sleep' },
  { name: 'other trust domain', svid: await issueSvid(ca, { spiffe: 'spiffe://example.org/ns/a/sa/b' }), bundle: ca.certPem, want: /not in trust domain "cluster.local"/ },
  { name: 'expired', svid: await issueSvid(ca, { spiffe: 'spiffe://cluster.local/ns/a/sa/b', notBefore: new Date(Date.now() - 3 * HOUR), notAfter: new Date(Date.now() - HOUR) }), bundle: ca.certPem, want: /expired at/ },
  { name: 'not yet valid', svid: await issueSvid(ca, { spiffe: 'spiffe://cluster.local/ns/a/sa/b', notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 3 * HOUR) }), bundle: ca.certPem, want: /not valid before/ },
  { name: 'signed by another CA', svid: good, bundle: otherCa.certPem, want: /is not signed by a certificate in bundle.pem/ },
  { name: 'key of another certificate', svid: { certPem: good.certPem, keyPem: otherCa.keyPem }, bundle: ca.certPem, want: /does not belong to the certificate/ },
  { name: 'CA certificate without a SAN', svid: ca, bundle: ca.certPem, want: /exactly one URI SAN/ },
  { name: 'not PEM', svid: { certPem: 'hello', keyPem: good.keyPem }, bundle: ca.certPem, want: /no "BEGIN CERTIFICATE" block/ },
];

for (const c of await bad()) {
  test(`identity files: ${c.name}`, () => {
    const run = (): string => checkIdentity(files, Buffer.from(c.svid.certPem), Buffer.from(c.svid.keyPem), Buffer.from(c.bundle), new Date()).id.uri;
    if (typeof c.want === 'string') assert.equal(run(), c.want);
    else assert.throws(run, (err: unknown) => err instanceof IdentityError && c.want instanceof RegExp && c.want.test(err.message));
  });
}
