// `Forwarded: for="<client ip:port>";host=<service>` (RFC 7239) on an HBONE CONNECT: the original client
// address, which ztunnel adds. Only the first element's `for` is read; obfuscated or unknown nodes are ignored.
import net from 'node:net';

export interface ForwardedFor {
  readonly address: string;
  readonly port: number | undefined;
}

const MAX_HEADER = 1024;

export function parseForwardedFor(value: string | undefined): ForwardedFor | undefined {
  if (value === undefined || value.length > MAX_HEADER) return undefined;
  const first = value.split(',', 1)[0] ?? '';
  for (const pair of first.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    let node = pair.slice(eq + 1).trim();
    if (node.startsWith('"') && node.endsWith('"') && node.length >= 2) node = node.slice(1, -1);
    return parseNode(node);
  }
  return undefined;
}

function parseNode(node: string): ForwardedFor | undefined {
  if (node.startsWith('[')) {
    const close = node.indexOf(']');
    if (close === -1) return undefined;
    const address = node.slice(1, close);
    if (!net.isIPv6(address)) return undefined;
    const rest = node.slice(close + 1);
    if (rest === '') return { address, port: undefined };
    return rest.startsWith(':') ? withPort(address, rest.slice(1)) : undefined;
  }
  const colon = node.indexOf(':');
  const address = colon === -1 ? node : node.slice(0, colon);
  if (!net.isIPv4(address)) return undefined;
  return colon === -1 ? { address, port: undefined } : withPort(address, node.slice(colon + 1));
}

function withPort(address: string, text: string): ForwardedFor | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return { address, port: undefined }; // obfuscated port (`_abc`): keep the address
  const port = Number(text);
  return port >= 1 && port <= 65535 ? { address, port } : { address, port: undefined };
}
