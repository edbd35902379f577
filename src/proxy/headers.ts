// Header handling between downstream and upstream: hop-by-hop removal (RFC 9110 7.6.1) and the
// headers Envoy adds (x-request-id, x-forwarded-proto, server, x-envoy-upstream-service-time).
import { randomUUID } from 'node:crypto';
import { HeaderList } from '../http/header-list.js';

/** Connection-specific headers never forwarded (RFC 9110 7.6.1), plus ones the proxy rewrites itself. */
const REQUEST_DROPPED = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect',
  'x-forwarded-proto', 'host',
]);
const RESPONSE_DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade', 'server']);

/** Lengths of the names the loop must recognise: a length check avoids lowercasing most names. */
const INSPECTED_LENGTHS = new Set([...REQUEST_DROPPED, 'x-request-id'].map((h) => h.length));

/**
 * Builds the upstream request headers as a flat [name, value, ...] list from the raw downstream ones,
 * keeping their order and case. Host goes first (undici sends it as given).
 */
export function upstreamRequestHeaders(raw: ReadonlyArray<string>, host: string, connectionTokens: ReadonlySet<string> | undefined): HeaderList {
  const out: string[] = ['host', host];
  let requestId = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // HTTP/2 pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`) are not fields: each upstream
    // client rebuilds them (or the HTTP/1.1 request line and Host) from method, path and host.
    if (name.charCodeAt(0) === 0x3a) continue;
    if (INSPECTED_LENGTHS.has(name.length) || connectionTokens !== undefined) {
      const lower = name.toLowerCase();
      if (REQUEST_DROPPED.has(lower) || connectionTokens?.has(lower) === true) continue;
      if (lower === 'x-request-id') requestId = true;
    }
    out.push(name, raw[i + 1] as string);
  }
  if (!requestId) out.push('x-request-id', randomUUID());
  // Envoy sets x-forwarded-proto from the downstream transport: plaintext here (or inside a tunnel).
  out.push('x-forwarded-proto', 'http');
  return new HeaderList(out);
}

/** Names listed in a Connection header (other than close/keep-alive) are hop-by-hop too. */
export function connectionTokens(value: string | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  let tokens: Set<string> | undefined;
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    if (t === '' || t === 'close' || t === 'keep-alive') continue;
    (tokens ??= new Set()).add(t);
  }
  return tokens;
}

/** Response headers for downstream, without hop-by-hop headers, as a list filters can edit. */
export function responseHeaderList(headers: Readonly<Record<string, string | string[] | undefined>>, upstreamMs: number): HeaderList {
  const out: string[] = [];
  const extra = connectionTokens(typeof headers['connection'] === 'string' ? headers['connection'] : undefined);
  for (const name in headers) {
    if (RESPONSE_DROPPED.has(name) || extra?.has(name) === true) continue;
    const value = headers[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value !== undefined) for (const v of value) out.push(name, v);
  }
  out.push('x-envoy-upstream-service-time', String(upstreamMs), 'server', 'istio-envoy');
  return new HeaderList(out);
}
