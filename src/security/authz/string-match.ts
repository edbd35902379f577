// Istio's string match forms for AuthorizationPolicy values: exact `abc`, prefix `abc*`, suffix `*abc`
// and presence `*`, compiled once into a monomorphic matcher.

export const MatchKind = { Exact: 0, Prefix: 1, Suffix: 2, Present: 3 } as const;
export type MatchKind = (typeof MatchKind)[keyof typeof MatchKind];

export class StringMatcher {
  constructor(
    readonly kind: MatchKind,
    /** Lower-cased when `ignoreCase`. */
    readonly value: string,
    readonly ignoreCase: boolean,
  ) {}

  /**
   * `Present` is Istio's `*`: for most fields it compiles to the regex `.+` (a non-empty value); header
   * conditions use Envoy's `present_match`, which an empty value also passes (see `presentMatchesEmpty`).
   */
  test(input: string | undefined, presentMatchesEmpty = false): boolean {
    if (input === undefined) return false;
    const v = this.ignoreCase ? input.toLowerCase() : input;
    switch (this.kind) {
      case MatchKind.Exact:
        return v === this.value;
      case MatchKind.Prefix:
        return v.startsWith(this.value);
      case MatchKind.Suffix:
        return v.endsWith(this.value);
      default:
        return presentMatchesEmpty || v.length > 0;
    }
  }
}

/**
 * "`*` first" as Istio's matcher package does, so `*` never becomes an empty prefix or suffix. A value
 * with a `*` anywhere else is rejected by validation (see `wildcardProblem`) before it reaches here.
 */
export function compileStringMatch(value: string, ignoreCase = false): StringMatcher {
  const v = ignoreCase ? value.toLowerCase() : value;
  if (v === '*') return new StringMatcher(MatchKind.Present, '', ignoreCase);
  if (v.startsWith('*')) return new StringMatcher(MatchKind.Suffix, v.slice(1), ignoreCase);
  if (v.endsWith('*')) return new StringMatcher(MatchKind.Prefix, v.slice(0, -1), ignoreCase);
  return new StringMatcher(MatchKind.Exact, v, ignoreCase);
}

/** Why a value's `*` is not one of the supported forms, or undefined when it is fine. */
export function wildcardProblem(value: string): string | undefined {
  if (value === '*') return undefined;
  const stars = value.split('*').length - 1;
  if (stars === 0) return undefined;
  if (stars === 1 && (value.startsWith('*') || value.endsWith('*'))) return undefined;
  return `"${value}": a wildcard is only supported as the whole value ("*"), a prefix match ("abc*") or a suffix match ("*abc")`;
}

/** True when any matcher in the list accepts the input (values of one field are ORed). */
export function anyMatches(list: ReadonlyArray<StringMatcher>, input: string | undefined, presentMatchesEmpty = false): boolean {
  for (let i = 0; i < list.length; i++) if ((list[i] as StringMatcher).test(input, presentMatchesEmpty)) return true;
  return false;
}
