// The consistent-hash key of a request, per DestinationRule `consistentHash`: a header's value, a cookie's value,
// the source IP, or a query parameter. Undefined when the request lacks it (Envoy then picks as if no hash policy).
import type { HashInput, HashKeySource } from './lb-policy.js';

export function hashKeyOf(source: HashKeySource, input: HashInput): string | undefined {
  switch (source.from) {
    case 'header':
      return input.headers.get(source.name);
    case 'source-ip':
      return input.sourceIp === '' ? undefined : input.sourceIp;
    case 'cookie':
      return cookieValue(input.headers.get('cookie'), source.name) ?? input.generatedCookie;
    case 'query':
      return queryValue(input.path, source.name);
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const v = part.slice(eq + 1).trim();
    return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  }
  return undefined;
}

/** First value of query parameter `name` (raw, as Envoy's query_parameter hash policy compares it). */
export function queryValue(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  const end = path.indexOf('#', q);
  const query = path.slice(q + 1, end < 0 ? undefined : end);
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name) return eq < 0 ? '' : pair.slice(eq + 1);
  }
  return undefined;
}
