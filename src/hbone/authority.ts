// The CONNECT `:authority` of an HBONE stream: the original destination as an IP literal and port
// (`10.0.0.5:8080`, `[fd00::5]:8080`). Host names are refused: the waypoint only serves addresses it knows.
import net from 'node:net';

export interface Authority {
  readonly address: string;
  readonly port: number;
  /** `ip:port` (IPv6 in brackets): the key VIP listeners and destinations use. */
  readonly key: string;
}

const MAX_AUTHORITY = 64;

export function parseAuthority(value: string | undefined): Authority | undefined {
  if (value === undefined || value.length === 0 || value.length > MAX_AUTHORITY) return undefined;
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1 || value[close + 1] !== ':') return undefined;
    host = value.slice(1, close);
    portText = value.slice(close + 2);
    if (net.isIPv6(host) === false) return undefined;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon === -1) return undefined;
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (!net.isIPv4(host)) return undefined;
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  const key = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { address: host, port, key };
}
