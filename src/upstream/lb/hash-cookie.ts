// consistentHash `httpCookie` with `ttl`: when the request lacks the cookie, Envoy generates one, hashes on it and
// sets it on the response so the client's next requests land on the same endpoint. As Envoy, the value is a hash
// of the downstream connection's addresses ("the same per connection, so racing streams get the same cookie"),
// and the header is `name="value"; Max-Age=<ttl>; Path=<path>; <attributes>; HttpOnly` (Max-Age omitted for ttl 0).
import { hash32 } from './hash.js';
import { cookieValue } from './hash-key.js';
import type { LbPolicy } from './lb-policy.js';

/** The downstream connection the cookie value is derived from (Envoy: its remote and local addresses). */
export interface DownstreamConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly listenerKey: string;
}

export interface GeneratedCookie {
  /** The cookie value the request is hashed on. */
  readonly value: string;
  /** The `Set-Cookie` header value for the response. */
  readonly setCookie: string;
}

/** The cookie to generate for this request, or undefined when the cluster does not hash on a ttl cookie or the request has it. */
export function cookieToGenerate(lb: LbPolicy | undefined, headers: { get(name: string): string | undefined }, conn: DownstreamConnection): GeneratedCookie | undefined {
  if (lb === undefined || lb.kind !== 'hash') return undefined;
  const key = lb.key;
  if (key.from !== 'cookie' || key.generate === undefined) return undefined;
  if (cookieValue(headers.get('cookie'), key.name) !== undefined) return undefined;
  const connection = `${conn.remoteAddress}:${conn.remotePort}|${conn.listenerKey}`;
  const value = hex8(hash32(connection, 0x5bd1e995)) + hex8(hash32(connection, 0x1b873593));
  const g = key.generate;
  let header = `${key.name}="${value}"`;
  if (g.ttlSeconds > 0) header += `; Max-Age=${g.ttlSeconds}`;
  if (g.path !== undefined && g.path !== '') header += `; Path=${g.path}`;
  for (const a of g.attributes) header += a.value === undefined || a.value === '' ? `; ${a.name}` : `; ${a.name}=${a.value}`;
  header += '; HttpOnly';
  return { value, setCookie: header };
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Response headers (undici's record) with the generated cookie added to any `set-cookie` the upstream sent. */
export function withSetCookie<H extends Record<string, string | string[] | undefined>>(headers: H, setCookie: string): H {
  const existing = headers['set-cookie'];
  const list = existing === undefined ? [setCookie] : Array.isArray(existing) ? [...existing, setCookie] : [existing, setCookie];
  return { ...headers, 'set-cookie': list };
}
