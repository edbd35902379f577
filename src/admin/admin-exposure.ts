// Whether the admin server is reachable beyond this machine: it serves the configuration, recent requests
// and the dashboard without authentication, so anything but loopback is worth a loud warning.
import net from 'node:net';

export interface AdminExposure {
  /** `host:port` as bound. */
  readonly address: string;
  readonly loopback: boolean;
  /** Shown on stderr at start and on the dashboard; undefined on loopback. */
  readonly warning: string | undefined;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (h.startsWith('::ffff:') && net.isIPv4(h.slice(7))) return h.slice(7).startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

export function adminExposure(host: string, address: string): AdminExposure {
  const loopback = isLoopbackHost(host);
  return {
    address,
    loopback,
    warning: loopback
      ? undefined
      : `admin server is NOT bound to loopback (${address}): anyone who can reach it can read the configuration, recent requests and the dashboard; bind it to 127.0.0.1 (--admin-address) unless that is intended`,
  };
}
