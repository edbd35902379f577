// IP and CIDR matching for ipBlocks, remoteIpBlocks and the source.ip / remote.ip / destination.ip
// conditions. Ranges are parsed once; a request compares its parsed address as four 32-bit words.
import net from 'node:net';

/** An address as four 32-bit words (IPv4 in its IPv4-mapped IPv6 form, `::ffff:a.b.c.d`). */
export type Address = readonly [number, number, number, number];

export class CidrRange {
  readonly #mask: [number, number, number, number];
  readonly #net: [number, number, number, number];

  constructor(readonly text: string, addr: Address, bits: number) {
    this.#mask = [0, 0, 0, 0];
    this.#net = [0, 0, 0, 0];
    for (let w = 0; w < 4; w++) {
      const b = Math.max(0, Math.min(32, bits - w * 32));
      const m = b === 0 ? 0 : b === 32 ? 0xffffffff : (0xffffffff << (32 - b)) >>> 0;
      this.#mask[w] = m;
      this.#net[w] = ((addr[w] ?? 0) & m) >>> 0;
    }
  }

  contains(a: Address): boolean {
    const m = this.#mask;
    const n = this.#net;
    return ((a[0] & m[0]) >>> 0) === n[0] && ((a[1] & m[1]) >>> 0) === n[1] && ((a[2] & m[2]) >>> 0) === n[2] && ((a[3] & m[3]) >>> 0) === n[3];
  }
}

/** Parses `10.0.0.1`, `10.0.0.0/8`, `fd00::/8`; undefined when invalid (as Go's netip would refuse it). */
export function parseCidr(text: string): CidrRange | undefined {
  const slash = text.indexOf('/');
  const ipText = slash < 0 ? text : text.slice(0, slash);
  const family = net.isIP(ipText);
  if (family === 0 || ipText.includes('%')) return undefined;
  const addr = parseAddress(ipText);
  if (addr === undefined) return undefined;
  const maxBits = family === 4 ? 32 : 128;
  let bits = maxBits;
  if (slash >= 0) {
    const b = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(b)) return undefined;
    bits = Number(b);
    if (bits > maxBits) return undefined;
  }
  return new CidrRange(text, addr, family === 4 ? bits + 96 : bits);
}

/** Parses an address as the request sees it (`127.0.0.1`, `::1`, `::ffff:127.0.0.1`); undefined if not an IP. */
export function parseAddress(text: string): Address | undefined {
  const family = net.isIP(text);
  if (family === 4) return [0, 0, 0xffff, ipv4ToNumber(text)];
  if (family !== 6) return undefined;
  const zone = text.indexOf('%');
  const groups = expandIpv6(zone < 0 ? text : text.slice(0, zone));
  if (groups === undefined) return undefined;
  const w = (i: number): number => (((groups[i] ?? 0) << 16) | (groups[i + 1] ?? 0)) >>> 0;
  return [w(0), w(2), w(4), w(6)];
}

/** Parsed peer and listener addresses: a handful of distinct strings seen on every request. */
const ADDRESS_CACHE = new Map<string, Address | undefined>();
const ADDRESS_CACHE_LIMIT = 4096;

/** parseAddress, memoized: per request it is a Map lookup instead of a parse and an allocation. */
export function cachedAddress(text: string): Address | undefined {
  let addr = ADDRESS_CACHE.get(text);
  if (addr !== undefined || ADDRESS_CACHE.has(text)) return addr;
  addr = parseAddress(text);
  // Bounded: a flood of distinct clients only costs re-parsing once the cache has been reset.
  if (ADDRESS_CACHE.size >= ADDRESS_CACHE_LIMIT) ADDRESS_CACHE.clear();
  ADDRESS_CACHE.set(text, addr);
  return addr;
}

function ipv4ToNumber(text: string): number {
  let n = 0;
  for (const part of text.split('.')) n = n * 256 + Number(part);
  return n >>> 0;
}

function expandIpv6(text: string): number[] | undefined {
  let body = text;
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) is rewritten as its two hex groups first.
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    const n = ipv4ToNumber(tail);
    body = `${body.slice(0, lastColon + 1)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const halves = body.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0] ?? '');
  const rest = halves.length > 1 ? parse(halves[1] ?? '') : [];
  const fill = 8 - head.length - rest.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...rest];
}

/** True when the address is inside any range; an unparseable address matches nothing. */
export function inAnyRange(ranges: ReadonlyArray<CidrRange>, address: Address | undefined): boolean {
  if (address === undefined) return false;
  for (let i = 0; i < ranges.length; i++) if ((ranges[i] as CidrRange).contains(address)) return true;
  return false;
}
