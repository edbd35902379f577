// Envoy's HTTP ext_authz client: the check request copies the original method and path (with the
// provider's pathPrefix), Host, Authorization and the configured headers, without a body; a 200 allows,
// a 5xx or a transport failure is an error, any other status denies with the provider's status and body.
import type { Agent } from 'undici';
import type { EndpointConfig } from '../../config/snapshot.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { HttpProvider } from './ext-authz-provider.js';
import type { ExtAuthzResult, HeaderEdit } from './ext-authz-result.js';
import { anyMatches, type StringMatcher } from './string-match.js';

let agent: Agent | undefined;

/**
 * One connection pool for every HTTP provider, keyed by origin inside undici; idle sockets do not hold the
 * process. undici is imported by the first check: a waypoint without ext_authz never loads it (issue #13, RSS).
 */
async function newSharedAgent(): Promise<Agent> {
  const { Agent } = await import('undici');
  agent ??= new Agent({ keepAliveTimeout: 10_000, connections: 128 });
  return agent;
}

/** Always sent by Envoy (besides includeRequestHeadersInCheck): Host, Method, Path, Content-Length, Authorization. */
const ALWAYS = new Set(['authorization']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length']);

export async function checkHttp(p: HttpProvider, endpoint: EndpointConfig, ex: HttpExchange): Promise<ExtAuthzResult> {
  const headers: Record<string, string> = {};
  const fields = ex.requestHeaders.fields;
  for (let i = 0; i < fields.length; i += 2) {
    const name = (fields[i] as string).toLowerCase();
    if (name === 'host' || name === 'content-length') continue;
    if (!ALWAYS.has(name) && !anyMatches(p.includeRequestHeaders, name)) continue;
    const value = fields[i + 1] as string;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  for (const [k, v] of p.includeAdditionalHeaders) headers[k] = v;
  headers['host'] = ex.requestHeaders.get('host') ?? ex.listener.service.hostname;
  const signal = AbortSignal.timeout(p.timeoutMs);
  try {
    const res = await (agent ?? (await newSharedAgent())).request({
      origin: `http://${endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address}:${endpoint.port}`,
      path: p.pathPrefix + ex.path,
      method: ex.method as 'GET',
      headers,
      headersTimeout: p.timeoutMs,
      bodyTimeout: p.timeoutMs,
      signal,
    });
    const body = await res.body.text();
    const list = flatten(res.headers);
    if (res.statusCode === 200) {
      return {
        kind: 'ok',
        upstream: pickEdits(list, p.headersToUpstreamOnAllow, 'set'),
        removeUpstream: [],
        downstream: pickEdits(list, p.headersToDownstreamOnAllow, 'append'),
      };
    }
    // "Set an error status if the call to the authorization server returns any of the 5xx HTTP error codes."
    if (res.statusCode >= 500) return { kind: 'error', reason: `authorization server answered ${res.statusCode}` };
    return { kind: 'denied', status: res.statusCode, headers: deniedHeaders(list, p.headersToDownstreamOnDeny), body };
  } catch (err) {
    return { kind: 'error', reason: err instanceof Error ? err.message : String(err) };
  }
}

function flatten(headers: Record<string, string | string[] | undefined>): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push([k.toLowerCase(), one]);
  }
  return out;
}

function pickEdits(list: ReadonlyArray<readonly [string, string]>, allowed: ReadonlyArray<StringMatcher>, op: HeaderEdit['op']): HeaderEdit[] {
  if (allowed.length === 0) return [];
  return list.filter(([k]) => !HOP_BY_HOP.has(k) && anyMatches(allowed, k)).map(([name, value]) => ({ name, value, op }));
}

/**
 * Envoy `allowed_client_headers`: unset = every authorization response header except Host; when set,
 * Path, Status, Content-Length, WWW-Authenticate and Location are added to the list automatically.
 */
function deniedHeaders(list: ReadonlyArray<readonly [string, string]>, allowed: ReadonlyArray<StringMatcher> | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of list) {
    if (HOP_BY_HOP.has(k) || k === 'date' || k === 'server') continue;
    if (allowed !== undefined && k !== 'www-authenticate' && k !== 'location' && !anyMatches(allowed, k)) continue;
    out.push(k, v);
  }
  return out;
}
