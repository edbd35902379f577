// Envoy's words for a failed upstream TLS handshake: reset reason `connection failure` with the transport failure
// reason `TLS error: <packed code>:SSL routines:OPENSSL_internal:<REASON>` (BoringSSL: lib SSL = 16 << 24 | reason).
// Node reports OpenSSL's verify codes and alerts instead; this maps them to what an Istio user sees from Envoy.

const SSL_LIB = 16 * 2 ** 24;

/** Certificate verification failures (OpenSSL X509_V_ERR names, Node's hostname check): all CERTIFICATE_VERIFY_FAILED in Envoy. */
const VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE', 'INVALID_CA', 'INVALID_PURPOSE', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_CRL', 'CRL_HAS_EXPIRED', 'CRL_NOT_YET_VALID',
]);

/** TLS alerts the server sends (BoringSSL reason = 1000 + alert number). */
const ALERTS: Readonly<Record<string, readonly [string, number]>> = {
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: ['SSLV3_ALERT_HANDSHAKE_FAILURE', 40],
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: ['SSLV3_ALERT_BAD_CERTIFICATE', 42],
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: ['SSLV3_ALERT_CERTIFICATE_UNKNOWN', 46],
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: ['TLSV1_ALERT_UNKNOWN_CA', 48],
  ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR: ['TLSV1_ALERT_DECRYPT_ERROR', 51],
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: ['TLSV1_ALERT_PROTOCOL_VERSION', 70],
  ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR: ['TLSV1_ALERT_INTERNAL_ERROR', 80],
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: ['TLSV1_ALERT_CERTIFICATE_REQUIRED', 116],
  ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL: ['TLSV1_ALERT_NO_APPLICATION_PROTOCOL', 120],
};

/** Envoy's transport failure reason for a TLS error code, or undefined when the code is not a TLS failure. */
export function tlsFailureReason(code: string): string | undefined {
  if (VERIFY_CODES.has(code)) return envoyTlsError('CERTIFICATE_VERIFY_FAILED', 125);
  const alert = ALERTS[code];
  if (alert !== undefined) return envoyTlsError(alert[0], 1000 + alert[1]);
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return envoyTlsError('WRONG_VERSION_NUMBER', 267);
  if (code.startsWith('ERR_SSL_')) return `TLS error: ${code.slice('ERR_SSL_'.length)}`;
  return undefined;
}

function envoyTlsError(reason: string, n: number): string {
  return `TLS error: ${SSL_LIB + n}:SSL routines:OPENSSL_internal:${reason}`;
}
