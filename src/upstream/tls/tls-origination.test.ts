// TLS origination helpers: Envoy's failure texts for Node's TLS error codes, and SAN verification.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { tlsFailureReason } from './tls-errors.js';
import { type TlsOrigination, verifyIdentity } from './tls-origination.js';

const reasons = [
  { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', want: 'TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED' },
  { code: 'ERR_TLS_CERT_ALTNAME_INVALID', want: 'TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED' },
  { code: 'CERT_HAS_EXPIRED', want: 'TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED' },
  { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', want: 'TLS error: 268436572:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED' },
  { code: 'ERR_SSL_WRONG_VERSION_NUMBER', want: 'TLS error: 268435723:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER' },
  { code: 'ECONNREFUSED', want: undefined },
];
for (const c of reasons) test(`tlsFailureReason(${c.code})`, () => assert.equal(tlsFailureReason(c.code), c.want));

const base: TlsOrigination = { mode: 'SIMPLE', ca: undefined, cert: undefined, key: undefined, crl: undefined, sni: 'svc.example', subjectAltNames: [], insecureSkipVerify: false, files: {} };
const cert = (subjectaltname: string): PeerCertificate => ({ subjectaltname, subject: { CN: '' } } as unknown as PeerCertificate);
const identities = [
  { name: 'a listed DNS SAN', t: { ...base, subjectAltNames: ['b.example', 'a.example'] }, san: 'DNS:a.example', ok: true },
  { name: 'a listed URI SAN', t: { ...base, subjectAltNames: ['spiffe://td/ns/x/sa/y'] }, san: 'URI:spiffe://td/ns/x/sa/y', ok: true },
  { name: 'a wildcard certificate covers one label', t: { ...base, subjectAltNames: ['a.example'] }, san: 'DNS:*.example', ok: true },
  { name: 'a wildcard does not cover two labels', t: { ...base, subjectAltNames: ['a.b.example'] }, san: 'DNS:*.example', ok: false },
  { name: 'no listed SAN', t: { ...base, subjectAltNames: ['c.example'] }, san: 'DNS:a.example, IP Address:127.0.0.1', ok: false },
  { name: 'no subjectAltNames: the SNI is checked', t: base, san: 'DNS:svc.example', ok: true },
  { name: 'no subjectAltNames: another name fails', t: base, san: 'DNS:other.example', ok: false },
  { name: 'insecureSkipVerify accepts anything', t: { ...base, insecureSkipVerify: true, subjectAltNames: ['x'] }, san: 'DNS:y', ok: true },
];
for (const c of identities) {
  test(`verifyIdentity: ${c.name}`, () => {
    const err = verifyIdentity(c.t, cert(c.san));
    assert.equal(err === undefined, c.ok, err?.message);
  });
}
