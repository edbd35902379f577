// Hostname conditions of route entries attached to the waypoint Gateway: the request's host without its
// port, and Gateway API hostname matching (exact, or a `*.` wildcard).

/** The Host (or :authority) value, lower-cased, without its port; an IPv6 literal keeps its brackets. */
export function hostWithoutPort(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

/** Gateway API hostnames: exact, or `*.example.com` matching any subdomain (not the apex). */
export function hostMatches(hostnames: ReadonlyArray<string>, host: string): boolean {
  for (const h of hostnames) {
    if (h.startsWith('*.') ? host.endsWith(h.slice(1)) && host.length > h.length - 1 : h === host) return true;
  }
  return false;
}
