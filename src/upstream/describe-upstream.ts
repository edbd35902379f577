// The /config_dump view of a cluster's UpstreamSettings: connection pool limits and TLS origination (mode, SNI,
// SAN checks and the file paths, never the PEM contents).
import type { UpstreamSettings } from './upstream-settings.js';

export function describeUpstream(u: UpstreamSettings): Record<string, unknown> {
  const t = u.tls;
  return {
    ...(Object.keys(u.pool).length === 0 ? {} : { connectionPool: u.pool }),
    ...(t === undefined ? {} : {
      tls: {
        mode: t.mode,
        sni: t.sni,
        ...(t.subjectAltNames.length === 0 ? {} : { subjectAltNames: t.subjectAltNames }),
        ...(t.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
        trust: t.insecureSkipVerify ? 'none' : t.ca === undefined ? 'system roots' : 'caCertificates',
        files: t.files,
      },
    }),
  };
}
