// Redaction for anything the debug endpoints record: credentials never leave the process. Headers that
// carry them (Authorization, Cookie, API keys, tokens) and token-like query parameters become `[redacted]`.

export const REDACTED = '[redacted]';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token', 'x-jwt-assertion', 'x-forwarded-client-cert']);
/** Any header or query parameter whose name mentions one of these is treated as a credential. */
const SECRET_WORDS = /token|secret|passw|jwt|api[-_]?key|session|auth/i;

/** Request headers as a flat record, credentials redacted, pseudo-headers dropped. */
export function redactHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    const lower = name.toLowerCase();
    out[lower] = SECRET_HEADERS.has(lower) || SECRET_WORDS.test(lower) ? REDACTED : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The path with token-like query parameter values redacted (`?access_token=...`). */
export function redactPath(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const params = path.slice(q + 1).split('&').map((kv) => {
    const eq = kv.indexOf('=');
    const name = eq < 0 ? kv : kv.slice(0, eq);
    return eq >= 0 && SECRET_WORDS.test(decodeSafe(name)) ? `${name}=${REDACTED}` : kv;
  });
  return `${path.slice(0, q)}?${params.join('&')}`;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
