// Prefetch on config change: every remote JWKS the new snapshot's JWT filters use is fetched in the
// background right away (as istiod resolves jwksUri when it pushes config), so the first request with a
// token does not wait for it and an unreachable JWKS is logged at load time. Never blocks the swap.
import type { Snapshot } from '../../config/snapshot.js';
import { JwtAuthnFilter } from './jwt-authn-filter.js';
import type { JwksResolver, RemoteJwks } from './jwks-resolver.js';

export function warmJwks(snapshot: Snapshot, resolver: JwksResolver): void {
  const seen = new Set<JwtAuthnFilter>();
  const sources = new Map<string, RemoteJwks>();
  for (const listener of snapshot.listeners.values()) {
    for (const filter of listener.servicePort.filters) {
      if (!(filter instanceof JwtAuthnFilter) || seen.has(filter)) continue;
      seen.add(filter);
      for (const p of filter.providers) {
        if (p.keys.kind !== 'remote') continue;
        const s = p.keys.source;
        sources.set(s.kind === 'uri' ? `uri ${s.uri}` : `oidc ${s.issuer}`, s);
      }
    }
  }
  for (const source of sources.values()) {
    const pending = resolver.keys(source);
    // The outcome is cached (or the failure logged) by the resolver; nothing waits for it here.
    if (pending instanceof Promise) void pending.catch(() => undefined);
  }
}
