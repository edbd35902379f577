// SPIFFE IDs (spiffe://<trust-domain>/<path>) as Istio issues them: `/ns/<namespace>/sa/<service-account>`.
// Parsing follows the SPIFFE ID spec's character rules; namespace and service account only for Istio's form.

export interface SpiffeId {
  /** The full URI, e.g. `spiffe://cluster.local/ns/default/sa/sleep`. */
  readonly uri: string;
  readonly trustDomain: string;
  /** Namespace and service account when the path is Istio's `/ns/<ns>/sa/<sa>`; else undefined. */
  readonly namespace: string | undefined;
  readonly serviceAccount: string | undefined;
}

// "Trust domain names ... MUST contain only lowercase letters, numbers, dots, dashes, and underscores."
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
// "Path segments MUST contain only letters, numbers, dots, dashes, and underscores" and must not be `.` or `..`.
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_LENGTH = 2048;

/** Parses a SPIFFE ID; undefined when it is not one (wrong scheme, bad characters, empty or dot segments). */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  if (uri.length > MAX_LENGTH || !uri.startsWith('spiffe://')) return undefined;
  const rest = uri.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  if (trustDomain === '' || !TRUST_DOMAIN.test(trustDomain)) return undefined;
  if (slash === -1) return { uri, trustDomain, namespace: undefined, serviceAccount: undefined };
  const segments = rest.slice(slash + 1).split('/');
  for (const s of segments) if (!SEGMENT.test(s) || s === '.' || s === '..') return undefined;
  const istio = segments.length === 4 && segments[0] === 'ns' && segments[2] === 'sa';
  return { uri, trustDomain, namespace: istio ? segments[1] : undefined, serviceAccount: istio ? segments[3] : undefined };
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>`: the identity Istio gives a workload's service account. */
export function istioSpiffeUri(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * The SPIFFE ID of a certificate from Node's `subjectAltName` text (`URI:spiffe://..., DNS:...`).
 * An X509-SVID "MUST contain exactly one URI SAN"; none or several yields undefined. SPIFFE IDs cannot
 * contain commas or quotes, so splitting the text on `, ` is exact for every valid one.
 */
export function spiffeIdOfSan(subjectAltName: string | undefined): SpiffeId | undefined {
  if (subjectAltName === undefined) return undefined;
  let found: string | undefined;
  for (const entry of subjectAltName.split(', ')) {
    if (!entry.startsWith('URI:')) continue;
    if (found !== undefined) return undefined;
    found = entry.slice(4);
  }
  return found === undefined ? undefined : parseSpiffeId(found);
}
