// Compiles RegularExpression match values (RE2 syntax, full-string match, as Istio uses) to JS RegExps,
// rejecting what RE2 rejects but JS accepts and translating the few RE2 spellings JS spells differently.

export type RegexCompileResult = { ok: true; regex: RegExp } | { ok: false; message: string };

/*
 * Why the `u` flag: without it JS (Annex B) silently reads RE2 escapes it does not know as literals —
 * `\A` matches "A", `\pL` matches "pL", `[[:digit:]]` is a set of punctuation and letters — so a pattern
 * that is valid RE2 would compile and quietly match something else. With `u` those become syntax errors
 * (reported at config time) and `\p{...}` works as in RE2. What `u` would break in common RE2 patterns —
 * escaped punctuation such as `\-` or `\:`, literal `{`, `}`, `]`, and `[[:alpha:]]` classes — is
 * rewritten below to its equivalent. Remaining differences (documented, rarely relevant to paths and
 * headers): JS `.` also excludes `\r`, U+2028 and U+2029, and JS `\s` also matches Unicode spaces.
 */
const RE2 = 'is not supported by RE2, the regular expression syntax used for Gateway API matches';
const MAX_REPEAT = 1000; // RE2 rejects repetition counts above 1000 ("bad repetition operator").

const POSIX_CLASSES: ReadonlyMap<string, string> = new Map([
  ['alnum', '0-9A-Za-z'],
  ['alpha', 'A-Za-z'],
  ['ascii', '\\x00-\\x7f'],
  ['blank', '\\t '],
  ['cntrl', '\\x00-\\x1f\\x7f'],
  ['digit', '0-9'],
  ['graph', '\\x21-\\x7e'],
  ['lower', 'a-z'],
  ['print', '\\x20-\\x7e'],
  ['punct', '\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e'],
  ['space', '\\t\\n\\v\\f\\r '],
  ['upper', 'A-Z'],
  ['word', '0-9A-Za-z_'],
  ['xdigit', '0-9A-Fa-f'],
]);

/** Compiles `pattern` so that it must match the whole input: `^(?:pattern)$`. */
export function compileFullMatchRegex(pattern: string): RegexCompileResult {
  const t = translate(pattern);
  if (typeof t === 'string') return { ok: false, message: t };
  try {
    // Compile the body alone first: wrapping an unbalanced body such as `a)|(b` in `^(?:...)$` would
    // yield a valid but different regex instead of a syntax error.
    new RegExp(t.source, t.flags);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return { ok: false, message: `invalid regular expression ${JSON.stringify(pattern)}: ${detail}` };
  }
  return { ok: true, regex: new RegExp(`^(?:${t.source})$`, t.flags) };
}

interface Translated {
  readonly source: string;
  readonly flags: string;
}

/** RE2 → JS `u`-mode source, or an error message. Character classes and escapes are tracked so that
 *  `(?=` inside `[...]` or after `\` is not mistaken for a lookahead. */
function translate(p: string): Translated | string {
  let flags = 'u';
  let i = 0;
  // RE2 allows inline flags anywhere; JS (Node 20) has none. A leading (?i)/(?s) maps to JS flags.
  // (?m) does not: it would let the `^...$` full-match anchors match at line breaks.
  const lead = /^\(\?([is]+)\)/.exec(p);
  if (lead !== null) {
    for (const f of lead[1] ?? '') if (!flags.includes(f)) flags += f;
    i = lead[0].length;
  }
  let out = '';
  let inClass = false;
  let classStart = -1;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined) return `invalid regular expression ${JSON.stringify(p)}: trailing backslash`;
      if (n >= '1' && n <= '9') return `backreference "\\${n}" ${RE2}`;
      if (n === 'k' && p[i + 2] === '<') return `named backreference "\\k<...>" ${RE2}`;
      if (isAsciiPunct(n)) {
        // RE2 allows escaping any punctuation; `u` mode only syntax characters. \xHH is equivalent.
        out += `\\x${n.charCodeAt(0).toString(16).padStart(2, '0')}`;
      } else if ((n === 'p' || n === 'P') && isAsciiLetter(p[i + 2])) {
        out += `\\${n}{${p[i + 2]}}`; // RE2 \pN → \p{N}
        i += 1;
      } else if ((n === 'p' || n === 'P' || n === 'x') && p[i + 2] === '{') {
        // \p{Greek}-style and \x{10FFFF}: copy through the `}` (RE2 \x{...} is JS `u`-mode \u{...}).
        const close = p.indexOf('}', i + 3);
        if (close < 0) return `invalid regular expression ${JSON.stringify(p)}: missing "}" after "\\${n}{"`;
        out += `\\${n === 'x' ? 'u' : n}${p.slice(i + 2, close + 1)}`;
        i = close + 1;
        continue;
      } else if (!inClass && n === 'A') {
        out += '^'; // RE2 \A: start of text, which is JS `^` without the m flag
      } else if (!inClass && n === 'z') {
        out += '$'; // RE2 \z: end of text
      } else {
        out += c + n;
      }
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === ']') {
        // RE2: a `]` right after `[` or `[^` is a literal; in JS it would close an empty class.
        out += i === classStart ? '\\]' : ']';
        inClass = i === classStart;
        i++;
        continue;
      }
      if (c === '[' && p[i + 1] === ':') {
        const end = p.indexOf(':]', i + 2);
        if (end > 0) {
          const name = p.slice(i + 2, end);
          const ranges = POSIX_CLASSES.get(name);
          if (ranges === undefined) {
            return name.startsWith('^')
              ? `negated POSIX class "[:${name}:]" is not supported by this proxy; use a negated class such as [^0-9]`
              : `unknown POSIX class "[:${name}:]"`;
          }
          out += ranges;
          i = end + 2;
          continue;
        }
      }
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += '[';
      i++;
      if (p[i] === '^') {
        out += '^';
        i++;
      }
      classStart = i;
      continue;
    }
    if (c === '(' && p[i + 1] === '?') {
      const a = p[i + 2];
      const b = p[i + 3];
      if (a === '=' || a === '!') return `lookahead "(?${a}" ${RE2}`;
      if (a === '<' && (b === '=' || b === '!')) return `lookbehind "(?<${b}" ${RE2}`;
      if (a === 'P' && b === '=') return `named backreference "(?P=...)" ${RE2}`;
      if (a === 'P' && b === '<') {
        out += '(?<'; // RE2/Python named group (?P<name>...) → JS (?<name>...)
        i += 4;
        continue;
      }
      if (a !== undefined && (a === '-' || 'imsU'.includes(a))) {
        return `inline flags "(?${a}..." are only supported at the start of the pattern, as (?i), (?s) or (?is)`;
      }
    }
    if (c === '{') {
      const end = repetitionEnd(p, i);
      if (end < 0) {
        out += '\\{'; // RE2: a `{` that does not start {n}, {n,} or {n,m} is a literal
        i++;
        continue;
      }
      const counts = p.slice(i + 1, end - 1).split(',');
      if (counts.some((n) => n !== '' && Number(n) > MAX_REPEAT)) {
        return `repetition count in "${p.slice(i, end)}" exceeds RE2's limit of ${MAX_REPEAT}`;
      }
      out += p.slice(i, end);
      i = end;
      continue;
    }
    // A `}` or `]` reaching here closes nothing: a literal in RE2, a syntax error in `u` mode.
    out += c === '}' || c === ']' ? `\\${c}` : c;
    i++;
  }
  return { source: out, flags };
}

/** Index just past `{n}`, `{n,}` or `{n,m}` starting at `p[i] === '{'`, or -1. */
function repetitionEnd(p: string, i: number): number {
  let j = i + 1;
  const firstDigit = j;
  while (isDigit(p[j])) j++;
  if (j === firstDigit) return -1;
  if (p[j] === ',') {
    j++;
    while (isDigit(p[j])) j++;
  }
  return p[j] === '}' ? j + 1 : -1;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isAsciiLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/** Printable ASCII that is neither a letter, a digit nor `_` (RE2 treats `\` + these as the literal). */
function isAsciiPunct(c: string): boolean {
  const code = c.charCodeAt(0);
  return code >= 0x20 && code <= 0x7e && !isAsciiLetter(c) && !isDigit(c) && c !== '_';
}
