// Matching a request `Origin` against HTTPCORSFilter.allowOrigins, compiled once: scheme, host (with the
// spec's left-greedy `*` wildcard) and port, where an absent port means 80 for http and 443 for https.

interface OriginPattern {
  readonly scheme: string;
  /** Host before and after the `*` (lower-case); no `*` means `suffix` is unused and `prefix` is the host. */
  readonly prefix: string;
  readonly suffix: string | undefined;
  readonly port: number;
}

export class OriginMatcher {
  readonly #any: boolean;
  readonly #patterns: ReadonlyArray<OriginPattern>;

  constructor(allowOrigins: ReadonlyArray<string>) {
    this.#any = allowOrigins.includes('*');
    this.#patterns = allowOrigins.flatMap((o) => {
      const p = parseOrigin(o);
      return p === undefined ? [] : [p];
    });
  }

  matches(origin: string): boolean {
    if (this.#any) return true;
    const o = parseOrigin(origin);
    if (o === undefined || o.suffix !== undefined) return false;
    for (const p of this.#patterns) {
      if (p.scheme !== o.scheme || p.port !== o.port) continue;
      if (p.suffix === undefined) {
        if (p.prefix === o.prefix) return true;
      } else if (o.prefix.length >= p.prefix.length + p.suffix.length && o.prefix.startsWith(p.prefix) && o.prefix.endsWith(p.suffix)) {
        // "`*` is a greedy match to the _left_, including any number of DNS labels to the left of its position."
        return true;
      }
    }
    return false;
  }
}

/** Whether `origin` is a usable allowOrigins entry (`*`, or `scheme://host[:port]` with http/https). */
export function validOrigin(origin: string): boolean {
  return origin === '*' || parseOrigin(origin) !== undefined;
}

function parseOrigin(value: string): OriginPattern | undefined {
  const m = /^(https?):\/\/([^/:?#]+|\[[0-9a-fA-F:.]+\])(?::([0-9]{1,5}))?$/.exec(value);
  if (m === null) return undefined;
  const scheme = m[1] as string;
  const host = (m[2] as string).toLowerCase();
  const port = m[3] === undefined ? (scheme === 'https' ? 443 : 80) : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const star = host.indexOf('*');
  if (star === -1) return { scheme, prefix: host, suffix: undefined, port };
  if (host.indexOf('*', star + 1) !== -1) return undefined;
  return { scheme, prefix: host.slice(0, star), suffix: host.slice(star + 1), port };
}
