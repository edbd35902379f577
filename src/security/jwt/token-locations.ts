// Where a JWT is looked for (headers with a value prefix, query parameters, cookies), how it is taken out of
// the request, and how it is removed before forwarding. Extraction follows Envoy's jwt_authn extractor, with
// one deliberate difference: every value of a repeated header, parameter or cookie is a token of its own, so
// a second, unverified token can never ride along with a good one.
import type { HeaderList } from '../../http/header-list.js';

export type TokenLocation =
  | { readonly kind: 'header'; readonly id: string; readonly name: string; readonly prefix: string }
  | { readonly kind: 'param'; readonly id: string; readonly name: string }
  | { readonly kind: 'cookie'; readonly id: string; readonly name: string };

export interface LocationRule {
  readonly fromHeaders: ReadonlyArray<{ readonly name: string; readonly prefix: string }>;
  readonly fromParams: ReadonlyArray<string>;
  readonly fromCookies: ReadonlyArray<string>;
}

/**
 * A rule's locations in the order Envoy extracts them (headers by name+prefix, then parameters, then
 * cookies, each sorted). With none configured: `Authorization: Bearer <token>` and `?access_token=`.
 */
export function ruleLocations(rule: LocationRule): TokenLocation[] {
  const headers = new Map<string, TokenLocation>();
  const params = new Map<string, TokenLocation>();
  const cookies = new Map<string, TokenLocation>();
  for (const h of rule.fromHeaders) {
    const name = h.name.toLowerCase();
    headers.set(`${name}${h.prefix}`, { kind: 'header', id: `header ${name} ${JSON.stringify(h.prefix)}`, name, prefix: h.prefix });
  }
  for (const p of rule.fromParams) params.set(p, { kind: 'param', id: `param ${p}`, name: p });
  for (const c of rule.fromCookies) cookies.set(c, { kind: 'cookie', id: `cookie ${c}`, name: c });
  if (headers.size === 0 && params.size === 0 && cookies.size === 0) {
    headers.set('authorizationBearer ', { kind: 'header', id: 'header authorization "Bearer "', name: 'authorization', prefix: 'Bearer ' });
    params.set('access_token', { kind: 'param', id: 'param access_token', name: 'access_token' });
  }
  const sorted = (m: Map<string, TokenLocation>): TokenLocation[] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, l]) => l);
  return [...sorted(headers), ...sorted(params), ...sorted(cookies)];
}

/** Reads the tokens at one location; `path` is the request target (origin form). */
export function tokensAt(loc: TokenLocation, headers: HeaderList, path: string): string[] | undefined {
  switch (loc.kind) {
    case 'header':
      return headerTokens(headers, loc.name, loc.prefix);
    case 'param':
      return paramValues(path, loc.name);
    case 'cookie':
      return cookieValues(headers, loc.name);
  }
}

/** Removes the token's location from the request; returns the new path (query parameters live there). */
export function removeToken(loc: TokenLocation, headers: HeaderList, path: string): string {
  switch (loc.kind) {
    case 'header':
      headers.remove(loc.name);
      return path;
    case 'param':
      return withoutParam(path, loc.name);
    case 'cookie':
      removeCookie(headers, loc.name);
      return path;
  }
}

/** RFC 4648 §5 base64url plus the dot: the characters a compact JWT is made of. */
function isJwtChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95 || c === 46;
}

function headerTokens(headers: HeaderList, name: string, prefix: string): string[] | undefined {
  let out: string[] | undefined;
  const f = headers.fields;
  for (let i = 0; i < f.length; i += 2) {
    const field = f[i] as string;
    if (field.length !== name.length || field.toLowerCase() !== name) continue;
    const value = f[i + 1] as string;
    let token = value;
    if (prefix !== '') {
      // Envoy: the prefix may appear anywhere; a value without it is not a token location at all.
      const at = value.indexOf(prefix);
      if (at < 0) continue;
      token = jwtAfter(value, at + prefix.length);
    }
    (out ??= []).push(token);
  }
  return out;
}

/** Envoy's extractJWT: skip to the first JWT character after the prefix and take the run of them. */
function jwtAfter(value: string, from: number): string {
  let start = from;
  while (start < value.length && !isJwtChar(value.charCodeAt(start))) start++;
  // Envoy keeps the whole value when nothing JWT-like follows the prefix; it then fails to parse.
  if (start === value.length) return value;
  let end = start;
  while (end < value.length && isJwtChar(value.charCodeAt(end))) end++;
  return value.slice(start, end);
}

function paramValues(path: string, name: string): string[] | undefined {
  const q = path.indexOf('?');
  if (q < 0) return undefined;
  let out: string[] | undefined;
  for (const pair of path.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (key === name) (out ??= []).push(eq < 0 ? '' : decode(pair.slice(eq + 1)));
  }
  return out;
}

function withoutParam(path: string, name: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const kept = path.slice(q + 1).split('&').filter((pair) => {
    const eq = pair.indexOf('=');
    return decode(eq < 0 ? pair : pair.slice(0, eq)) !== name;
  });
  return kept.length === 0 ? path.slice(0, q) : `${path.slice(0, q)}?${kept.join('&')}`;
}

/** Percent-decoding as Envoy does it: a malformed escape is kept as written. */
function decode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
      const code = parseInt(hex, 16);
      return code < 0x80 ? String.fromCharCode(code) : m;
    });
  }
}

function cookieValues(headers: HeaderList, name: string): string[] | undefined {
  let out: string[] | undefined;
  for (const header of headers.getAll('cookie')) {
    for (const part of header.split(';')) {
      const cookie = part.trimStart();
      const eq = cookie.indexOf('=');
      if (eq < 0 || cookie.slice(0, eq) !== name) continue;
      let value = cookie.slice(eq + 1).trimEnd();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      (out ??= []).push(value);
    }
  }
  return out;
}

function removeCookie(headers: HeaderList, name: string): void {
  const values = headers.getAll('cookie');
  if (values.length === 0) return;
  const kept: string[] = [];
  for (const header of values) {
    const parts = header.split(';').filter((part) => {
      const cookie = part.trimStart();
      const eq = cookie.indexOf('=');
      return !(eq >= 0 && cookie.slice(0, eq) === name);
    });
    const rebuilt = parts.map((p) => p.trim()).filter((p) => p !== '').join('; ');
    if (rebuilt !== '') kept.push(rebuilt);
  }
  headers.remove('cookie');
  for (const v of kept) headers.add('cookie', v);
}
