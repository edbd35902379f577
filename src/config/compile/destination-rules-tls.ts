// DestinationRule `tls` → the TLS this waypoint originates to the Service's endpoints. SIMPLE and MUTUAL read
// the PEM contents handed in by the pipeline (upstream/tls/tls-files.ts); a file that cannot be read or parsed,
// or `credentialName` (no Secret store in this mode), rejects the rule, so the Service keeps its previous
// behaviour. DISABLE and ISTIO_MUTUAL originate nothing: on a waypoint the hop to an ambient pod is already
// HBONE (mTLS with the mesh certificates, istio-facts 7.3), which is what Istio's waypoint does for them too.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { type Diagnostic, resourceDiagnostic } from '../diagnostics.js';
import type { ClientTlsSpec, DestinationRuleSpec } from '../model/destination-rule.js';
import type { FieldPath } from '../resource.js';
import type { Valid } from '../validate/validate.js';
import type { TlsFiles } from '../../upstream/tls/tls-files.js';
import type { TlsOrigination } from '../../upstream/tls/tls-origination.js';

/** What a tls block compiles to: nothing to originate, TLS settings (SNI filled per Service), or a rejection. */
export type CompiledTls =
  | { readonly kind: 'none' }
  | { readonly kind: 'originate'; readonly tls: Omit<TlsOrigination, 'sni'>; readonly sni: string | undefined }
  | { readonly kind: 'rejected' };

const NONE: CompiledTls = Object.freeze({ kind: 'none' });

export function compileTls(dr: Valid<DestinationRuleSpec>, spec: ClientTlsSpec | undefined, at: FieldPath, files: TlsFiles | undefined, out: Diagnostic[]): CompiledTls {
  const mode = spec?.mode ?? 'DISABLE';
  if (spec === undefined || mode === 'DISABLE' || mode === 'ISTIO_MUTUAL') return NONE;
  const error = (field: string, message: string): CompiledTls => {
    out.push(resourceDiagnostic(dr.raw, 'error', 'tls-origination', [...at, field], message));
    return { kind: 'rejected' };
  };
  if (spec.credentialName !== undefined && spec.credentialName !== '') {
    return error('credentialName', `credentialName "${spec.credentialName}" is not available: this waypoint reads no Secrets; name PEM files with clientCertificate, privateKey and caCertificates instead. The rule is not applied`);
  }
  const pems: Record<string, string> = {};
  const paths: Record<string, string> = {};
  for (const field of ['caCertificates', 'clientCertificate', 'privateKey', 'caCrl'] as const) {
    const p = spec[field];
    if (p === undefined || p === '') continue;
    const file = files?.get(p);
    if (file === undefined) return error(field, `${field} file "${p}" was not read (no file access in this mode); the rule is not applied`);
    if (file.kind === 'unreadable') return error(field, `${field} file "${p}" cannot be read (${file.error}); the rule is not applied and the Service keeps its previous behaviour`);
    if (file.kind === 'stale') {
      out.push(resourceDiagnostic(dr.raw, 'warning', 'tls-origination', [...at, field], `${field} file "${p}" cannot be read any more (${file.error}); the contents read before are used`));
    }
    const problem = pemProblem(field, file.pem);
    if (problem !== undefined) return error(field, `${field} file "${p}" ${problem}; the rule is not applied`);
    pems[field] = file.pem;
    paths[field] = p;
  }
  if (spec.caCertificates === undefined && spec.insecureSkipVerify !== true) {
    out.push(resourceDiagnostic(dr.raw, 'info', 'tls-origination', [...at, 'caCertificates'],
      'no caCertificates: the server certificate is verified against the system roots (as Istio with VERIFY_CERTIFICATE_AT_CLIENT)'));
  }
  return {
    kind: 'originate',
    sni: spec.sni === undefined || spec.sni === '' ? undefined : spec.sni,
    tls: Object.freeze({
      mode: mode === 'MUTUAL' ? 'MUTUAL' : 'SIMPLE',
      ca: pems['caCertificates'],
      cert: pems['clientCertificate'],
      key: pems['privateKey'],
      crl: pems['caCrl'],
      subjectAltNames: Object.freeze([...(spec.subjectAltNames ?? [])]),
      insecureSkipVerify: spec.insecureSkipVerify === true,
      files: Object.freeze(paths),
    }),
  };
}

/** A reason the PEM text is not what the field needs, or undefined when it parses. */
function pemProblem(field: 'caCertificates' | 'clientCertificate' | 'privateKey' | 'caCrl', pem: string): string | undefined {
  try {
    if (field === 'privateKey') createPrivateKey(pem);
    else if (field === 'caCrl') {
      if (!pem.includes('-----BEGIN X509 CRL-----')) return 'holds no PEM "X509 CRL" block';
    } else {
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) return 'holds no PEM certificate';
      new X509Certificate(pem);
    }
    return undefined;
  } catch (err) {
    return `does not parse (${err instanceof Error ? err.message : String(err)})`;
  }
}
