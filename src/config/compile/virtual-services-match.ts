// VirtualService HTTPMatchRequest → the CompiledHttpMatch the router runs. VS semantics, not Gateway API ones:
// `prefix` is a plain string prefix (Envoy's route prefix, `/foo` matches `/foobar`), `ignoreUriCase`, header
// `prefix`, `{}` = present, `withoutHeaders` inverted (an absent header matches), regexes are RE2, full match.
import type { CompiledHttpMatch } from '../../router/match/http-match.js';
import { MATCH_EVERYTHING } from '../../router/match/http-match.js';
import { compileFullMatchRegex } from '../../router/match/regex.js';
import type { RequestView } from '../../router/request-view.js';
import type { HTTPMatchRequest, StringMatch } from '../model/virtual-service.js';

const Kind = { Present: 0, Exact: 1, Prefix: 2, Regex: 3 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

/** One compiled StringMatch. `ignoreCase` lower-cases both sides (`value` is stored lower-cased). */
export class StringTest {
  constructor(
    readonly kind: Kind,
    readonly value: string,
    readonly regex: RegExp | undefined,
    readonly ignoreCase: boolean,
  ) {}

  test(input: string): boolean {
    switch (this.kind) {
      case Kind.Present:
        return true;
      case Kind.Exact:
        return (this.ignoreCase ? input.toLowerCase() : input) === this.value;
      case Kind.Prefix:
        return (this.ignoreCase ? input.toLowerCase() : input).startsWith(this.value);
      default:
        return (this.regex as RegExp).test(input);
    }
  }

  /** The characters of `input` this prefix test matched ('' unless a prefix). */
  get prefixLength(): number {
    return this.kind === Kind.Prefix ? this.value.length : 0;
  }
}

/** Compiles a StringMatch already checked by validation (one of exact/prefix/regex, a valid RE2 regex; `{}` = present). */
export function stringTest(s: StringMatch, ignoreCase = false): StringTest {
  if (s.exact !== undefined) return new StringTest(Kind.Exact, ignoreCase ? s.exact.toLowerCase() : s.exact, undefined, ignoreCase);
  if (s.prefix !== undefined) return new StringTest(Kind.Prefix, ignoreCase ? s.prefix.toLowerCase() : s.prefix, undefined, ignoreCase);
  if (s.regex !== undefined) {
    const r = compileFullMatchRegex(s.regex);
    // Validation compiled every regex already; a failure here is a bug, not bad input.
    if (!r.ok) throw new Error(`regex ${s.regex} passed validation but does not compile: ${r.message}`);
    return new StringTest(Kind.Regex, '', r.regex, false);
  }
  return new StringTest(Kind.Present, '', undefined, false);
}

interface NamedTest {
  readonly name: string;
  readonly test: StringTest;
  /** withoutHeaders: the condition holds when the header is absent or its test fails. */
  readonly inverted: boolean;
}

class VirtualServiceMatch implements CompiledHttpMatch {
  constructor(
    readonly method: string | undefined,
    private readonly methodTest: StringTest | undefined,
    private readonly uri: StringTest | undefined,
    private readonly headers: ReadonlyArray<NamedTest>,
    private readonly query: ReadonlyArray<NamedTest>,
    private readonly never: boolean,
  ) {}

  test(req: RequestView): boolean {
    if (this.never) return false;
    if (this.method !== undefined ? req.method !== this.method : this.methodTest !== undefined && !this.methodTest.test(req.method)) return false;
    if (this.uri !== undefined && !this.uri.test(req.path)) return false;
    for (let i = 0; i < this.headers.length; i++) {
      const h = this.headers[i] as NamedTest;
      const v = req.header(h.name);
      const ok = v !== undefined && h.test.test(v);
      if (ok === h.inverted) return false;
    }
    for (let i = 0; i < this.query.length; i++) {
      const q = this.query[i] as NamedTest;
      const v = req.queryParam(q.name);
      if (v === undefined || !q.test.test(v)) return false;
    }
    return true;
  }
}

/**
 * All conditions are ANDed. `scheme` is decided now: inside the mesh the waypoint only sees plaintext HTTP
 * (TLS, if any, ended at the HBONE tunnel), so `:scheme` is always `http`. `port`, `gateways`, `sourceLabels`
 * and `sourceNamespace` are handled by the caller (which matches apply at all).
 */
export function compileVirtualServiceMatch(m: HTTPMatchRequest | undefined): CompiledHttpMatch {
  if (m === undefined) return MATCH_EVERYTHING;
  const never = m.scheme !== undefined && !stringTest(m.scheme).test('http');
  const uri = m.uri === undefined ? undefined : stringTest(m.uri, m.ignoreUriCase === true);
  const methodTest = m.method === undefined ? undefined : stringTest(m.method);
  const headers: NamedTest[] = [];
  if (m.authority !== undefined) headers.push({ name: 'host', test: stringTest(m.authority), inverted: false });
  for (const [name, s] of Object.entries(m.headers ?? {})) headers.push({ name: headerName(name), test: stringTest(s), inverted: false });
  for (const [name, s] of Object.entries(m.withoutHeaders ?? {})) headers.push({ name: headerName(name), test: stringTest(s), inverted: true });
  const query = Object.entries(m.queryParams ?? {}).map(([name, s]) => ({ name, test: stringTest(s), inverted: false }));
  const trivialUri = uri === undefined || (uri.kind === Kind.Prefix && uri.value === '/');
  if (!never && trivialUri && methodTest === undefined && headers.length === 0 && query.length === 0) return MATCH_EVERYTHING;
  return new VirtualServiceMatch(m.method?.exact, methodTest, trivialUri ? undefined : uri, headers, query, never);
}

/** RequestView reads lower-case names; `:authority` is the Host header there. */
function headerName(name: string): string {
  return name === ':authority' ? 'host' : name;
}

/** Istio's IsCatchAllRoute: no condition, or only a `/` prefix (or `.*` regex) on the URI. Later routes are unreachable. */
export function isCatchAll(m: HTTPMatchRequest | undefined): boolean {
  if (m === undefined) return true;
  const uriAll = m.uri === undefined || m.uri.prefix === '/' || m.uri.regex === '.*';
  return uriAll && m.method === undefined && m.authority === undefined && m.scheme === undefined &&
    Object.keys(m.headers ?? {}).length === 0 && Object.keys(m.withoutHeaders ?? {}).length === 0 && Object.keys(m.queryParams ?? {}).length === 0;
}
