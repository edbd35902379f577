// Tests for compileFullMatchRegex: full-string matching, RE2 rejections, JS syntax errors and the RE2
// spellings translated for JS `u` mode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFullMatchRegex } from './regex.js';

const matching: { name: string; pattern: string; yes: string[]; no: string[] }[] = [
  { name: 'a pattern must match the whole input, not a substring', pattern: '/a.*', yes: ['/a', '/abc', '/a/b'], no: ['x/ab', '/xa'] },
  { name: 'a literal does not match inside a longer string', pattern: 'abc', yes: ['abc'], no: ['xabc', 'abcx', 'xabcx'] },
  { name: 'alternation is anchored as a whole', pattern: 'a|b', yes: ['a', 'b'], no: ['ab', 'ba', 'xa'] },
  { name: 'matching is case-sensitive by default', pattern: '/Foo', yes: ['/Foo'], no: ['/foo'] },
  { name: 'user anchors are harmless', pattern: '^/ws$', yes: ['/ws'], no: ['/ws/'] },
  { name: 'the empty pattern matches only the empty string', pattern: '', yes: [''], no: ['a'] },
  { name: 'common path regex with a class and repetition', pattern: '/api/v[0-9]+/users/[^/]+', yes: ['/api/v12/users/bob'], no: ['/api/v/users/bob', '/api/v1/users/a/b'] },
  { name: 'counted repetition', pattern: '\\d{3}-\\d{4}', yes: ['555-1234'], no: ['55-1234'] },
  { name: 'lookahead syntax inside a character class is literal', pattern: '[(?=]+', yes: ['(?='], no: ['a'] },
  { name: 'an escaped "(" before "?=" is not a lookahead', pattern: '\\(?=x', yes: ['(=x', '=x'], no: ['x'] },
  { name: 'RE2 escaped punctuation "\\-" and "\\:" are literals', pattern: 'a\\-b\\:c', yes: ['a-b:c'], no: ['ab:c'] },
  { name: 'escaped punctuation inside a class is literal', pattern: '[a\\-z]+', yes: ['a-z', 'z'], no: ['b'] },
  { name: 'a "{" that is not a repetition is literal (RE2)', pattern: '/users/{id}', yes: ['/users/{id}'], no: ['/users/1'] },
  { name: 'a "{,n}" is literal (RE2)', pattern: 'a{,2}', yes: ['a{,2}'], no: ['aa'] },
  { name: 'a "]" first in a class is literal (RE2)', pattern: '[]a]+', yes: [']a]'], no: ['b'] },
  { name: 'a "]" first in a negated class is literal (RE2)', pattern: '[^]a]', yes: ['b'], no: [']', 'a'] },
  { name: 'a lone "]" outside a class is literal (RE2)', pattern: 'a]', yes: ['a]'], no: ['a'] },
  { name: 'POSIX classes work inside brackets', pattern: '[[:digit:]]+[[:alpha:]_]*', yes: ['123', '1a_b'], no: ['abc', ':'] },
  { name: 'a leading (?i) makes the match case-insensitive', pattern: '(?i)bearer .+', yes: ['Bearer x', 'BEARER y'], no: ['Bear x'] },
  { name: 'a leading (?s) lets "." match a newline', pattern: '(?s)a.b', yes: ['a\nb'], no: ['ab'] },
  { name: 'Python-style named groups (?P<name>) are accepted', pattern: '/u/(?P<id>\\d+)', yes: ['/u/42'], no: ['/u/x'] },
  { name: 'JS-style named groups (?<name>) are accepted', pattern: '/u/(?<id>\\d+)', yes: ['/u/42'], no: ['/u/x'] },
  { name: 'RE2 one-letter Unicode classes \\pL work', pattern: '\\pL+', yes: ['héllo'], no: ['h3llo'] },
  { name: 'Unicode classes with braces work', pattern: '\\p{Lu}\\P{Lu}', yes: ['Ab'], no: ['AB'] },
  { name: 'RE2 \\x{...} code point escapes work', pattern: '\\x{41}\\x{1F600}', yes: ['A😀'], no: ['A'] },
  { name: 'RE2 \\A and \\z anchors work', pattern: '\\Aab\\z', yes: ['ab'], no: ['xab'] },
  { name: '"." matches one code point, not one UTF-16 unit (u flag)', pattern: 'a.b', yes: ['a😀b'], no: ['a😀😀b'] },
];
for (const c of matching) {
  test(`regex: ${c.name}`, () => {
    const r = compileFullMatchRegex(c.pattern);
    assert.ok(r.ok, r.ok ? '' : r.message);
    for (const s of c.yes) assert.ok(r.regex.test(s), `${c.pattern} should match ${JSON.stringify(s)}`);
    for (const s of c.no) assert.ok(!r.regex.test(s), `${c.pattern} should not match ${JSON.stringify(s)}`);
  });
}

const rejected: { name: string; pattern: string; message: RegExp }[] = [
  { name: 'lookahead (?= is rejected as unsupported by RE2', pattern: '/a(?=b)', message: /lookahead.*RE2/ },
  { name: 'negative lookahead (?! is rejected as unsupported by RE2', pattern: '(?!/admin)/.*', message: /lookahead.*RE2/ },
  { name: 'lookbehind (?<= is rejected as unsupported by RE2', pattern: '(?<=a)b', message: /lookbehind.*RE2/ },
  { name: 'negative lookbehind (?<! is rejected as unsupported by RE2', pattern: '(?<!a)b', message: /lookbehind.*RE2/ },
  { name: 'numbered backreference \\1 is rejected as unsupported by RE2', pattern: '(a)\\1', message: /backreference.*RE2/ },
  { name: 'numbered backreference \\9 is rejected as unsupported by RE2', pattern: '(a)(b)(c)(d)(e)(f)(g)(h)(i)\\9', message: /backreference.*RE2/ },
  { name: 'named backreference \\k<name> is rejected as unsupported by RE2', pattern: '(?<n>a)\\k<n>', message: /backreference.*RE2/ },
  { name: 'Python named backreference (?P=name) is rejected', pattern: '(?P<n>a)(?P=n)', message: /backreference.*RE2/ },
  { name: 'repetition above 1000 is rejected like RE2', pattern: 'a{1001}', message: /1000/ },
  { name: 'inline flags after the start are rejected with a clear message', pattern: 'a(?i)b', message: /inline flags/ },
  { name: 'a flag group (?i:...) is rejected with a clear message', pattern: '(?i:a)', message: /inline flags/ },
  { name: 'a leading (?m) is rejected (it would break full-match anchoring)', pattern: '(?m)a', message: /inline flags/ },
  { name: 'an unknown POSIX class is rejected', pattern: '[[:foo:]]', message: /POSIX/ },
  { name: 'a negated POSIX class is rejected', pattern: '[[:^digit:]]', message: /POSIX/ },
  { name: 'an unbalanced ")" is a syntax error, not a different regex', pattern: 'a)|(b', message: /invalid regular expression/ },
  { name: 'an unclosed group is a syntax error', pattern: '(abc', message: /invalid regular expression/ },
  { name: 'a leading quantifier is a syntax error', pattern: '*a', message: /invalid regular expression/ },
  { name: 'an out-of-order range is a syntax error', pattern: '[z-a]', message: /invalid regular expression/ },
  { name: 'a trailing backslash is a syntax error', pattern: 'a\\', message: /invalid regular expression/ },
  { name: 'RE2 \\Q...\\E quoting is rejected rather than misread', pattern: '\\Qa.b\\E', message: /invalid regular expression/ },
];
for (const c of rejected) {
  test(`regex: ${c.name}`, () => {
    const r = compileFullMatchRegex(c.pattern);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, c.message);
  });
}
