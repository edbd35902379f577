// The fast path of config loading: js-yaml, without source positions, about 8x faster than `yaml` with them.
// It only takes text whose meaning it reproduces exactly; anything else returns undefined and goes to `yaml`.
import { FAILSAFE_SCHEMA, load, Type } from 'js-yaml';
import { YAML_CORE_TYPES } from './yaml-core-schema.js';

/** One document of a stream: its value and where its text lies, so positions can be found later if needed. */
export interface FastDocument {
  readonly value: unknown;
  /** Offsets of the document's text in the file, `---` line included. */
  readonly start: number;
  readonly end: number;
  /** 1-based line of `start`. */
  readonly line: number;
}

const CORE_SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: YAML_CORE_TYPES.map(({ tag, ...t }) => new Type(tag, t)) });

/**
 * Constructs the two parsers do not read alike, or that only `yaml` reports on (a warning, a resource limit).
 * Each test is conservative: a false match only costs the slow path. A test runs only when the text holds
 * one of its `when` strings (a fast scan): most config holds none of them.
 */
const DECLINED: ReadonlyArray<{ readonly when: ReadonlyArray<string>; readonly re: RegExp }> = [
  // `&anchor`, `*alias`, `!tag`: alias-bomb limits, merge keys, unknown-tag warnings, lines through aliases.
  { when: ['&', '*', '!'], re: /(?:^|[\s[{,])[&*!]/m },
  // `? key`, a null key (`~: v`, `null: v`; `yaml` makes it "") or an empty one (`: v`), a flow collection
  // as key (`[a]: v`, which `yaml` stringifies its own way).
  { when: ['?'], re: /(?:^|[\s[{,])\?(?=\s|$)/m },
  { when: ['~', 'null', 'Null', 'NULL'], re: /(?:~|null|Null|NULL)[ \t]*:(?=[\s,\]}]|$)/ },
  { when: [':'], re: /(?:^|[\s[{,]):(?=[\s,\]}]|$)/m },
  { when: [']', '}'], re: /[\]}][ \t]*:(?=[\s,\]}]|$)/ },
  // `"quoted"#comment`: an error for `yaml`, a comment for js-yaml.
  { when: ['#'], re: /["']#/ },
  // A lone CR: a line break for one parser but not the other.
  { when: ['\r'], re: /\r(?!\n)/ },
  // An empty sequence entry (`-` ending a line) or a block scalar header opening a line (`  |`): js-yaml
  // accepts less-indented lines after them that `yaml` rejects, and nests some entries differently.
  { when: ['-'], re: /(?:^|[ \t])-[ \t]*(?:#.*)?$/m },
  { when: ['|', '>'], re: /^[ \t]*[|>]/m },
  // Block scalars with keep chomping (`|+`) or an indentation indicator (`|2`): trailing lines differ.
  { when: ['|', '>'], re: /(?:^|\s)[|>](?:\+|[-+]?[1-9])/m },
  // Blank lines with spaces right after a block scalar header: `yaml` rejects more spaces there than the
  // first content line has (YAML 1.2 §8.1.1.1); js-yaml ends the scalar when that line is a `#` line.
  { when: ['|', '>'], re: /[|>][-+]?[ \t]*(?:#[^\r\n]*)?\r?\n(?:[ \t]*\r?\n)*[ \t]+(?:\r?\n|$)/ },
  // A tab in a line's indentation: an error for `yaml` (YAML 1.2 §6.1), not always for js-yaml.
  { when: ['\t'], re: /^ *\t/m },
];

function declined(text: string): boolean {
  return DECLINED.some((d) => d.when.some((w) => text.includes(w)) && d.re.test(text));
}

/** `yaml` rejects implicit keys over 1024 characters (YAML 1.2 §7.4.2); js-yaml does not. */
const MAX_KEY = 1024;
const KEY_END = /:(?:[ \t\r]|$)/;

export function fastParseDocuments(text: string): FastDocument[] | undefined {
  if (declined(text)) return undefined;
  const chunks = splitDocuments(text);
  if (chunks === undefined) return undefined;
  const docs: FastDocument[] = [];
  for (const c of chunks) {
    let value: unknown;
    try {
      // Duplicate keys, bad indentation, unterminated quotes...: `yaml` says it with its own messages.
      value = load(text.slice(c.start, c.end), { schema: CORE_SCHEMA });
    } catch {
      return undefined;
    }
    docs.push({ value: value ?? null, ...c });
  }
  return docs;
}

interface Chunk {
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

/**
 * Splits a stream into documents as YAML 1.2 (§9.2) does: `---` at column 0 starts one (even an empty one),
 * `...` ends one, and outside a document the first content line starts a bare one; comments and blank lines
 * between documents belong to none. Document markers cannot occur inside scalars (c-forbidden), so this is
 * exact. Returns undefined for directives (`%YAML`), for lines that may hold a key over 1024 characters,
 * and for multi-line flow collections inside block collections: `yaml` holds their lines to indentation
 * rules (errors and a warning) that js-yaml does not.
 */
function splitDocuments(text: string): Chunk[] | undefined {
  const chunks: Chunk[] = [];
  let open: { start: number; line: number; flowRoot: boolean | undefined } | undefined;
  const close = (end: number): void => {
    if (open !== undefined) chunks.push({ start: open.start, end, line: open.line });
    open = undefined;
  };
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let line = 1; pos < text.length || (pos === text.length && line === 1); line++) {
    const nl = text.indexOf('\n', pos);
    const eol = nl === -1 ? text.length : nl;
    const c = text.charCodeAt(pos);
    if (c === 0x25 /* % */) return undefined;
    // A key can only end past column 1024 on a longer line; such lines are rare (long annotation values).
    if (eol - pos > MAX_KEY && KEY_END.test(text.slice(pos + MAX_KEY, eol))) return undefined;
    if (isMarker(text, pos, eol, '---')) {
      close(pos);
      open = { start: pos, line, flowRoot: undefined };
      if (!classify(open, text, pos + 3, eol)) return undefined;
    } else if (isMarker(text, pos, eol, '...')) {
      // Content after `...` is an error; a `...` outside any document is an empty one for `yaml`.
      if (open === undefined || firstContent(text, pos + 3, eol) !== -1) return undefined;
      close(pos);
    } else if (text.startsWith('---', pos) || text.startsWith('...', pos)) {
      return undefined; // `---word`: js-yaml takes it for a marker, `yaml` for a plain scalar
    } else if (open === undefined) {
      const first = firstContent(text, pos, eol);
      if (first !== -1) {
        open = { start: pos, line, flowRoot: undefined };
        if (!classify(open, text, pos, eol)) return undefined;
      }
    } else if (!classify(open, text, pos, eol)) {
      return undefined;
    }
    if (nl === -1) break;
    pos = nl + 1;
  }
  close(text.length);
  return chunks;
}

/** Records whether the document's root is a flow collection; false if a block document has an unclosed flow line. */
function classify(doc: { flowRoot: boolean | undefined }, text: string, from: number, eol: number): boolean {
  if (doc.flowRoot === undefined) {
    const first = firstContent(text, from, eol);
    if (first === -1) return true;
    const c = text.charCodeAt(first);
    doc.flowRoot = c === 0x5b /* [ */ || c === 0x7b /* { */;
  }
  // Inside a flow root there is no block indentation to respect (JSON files are all flow).
  return (doc.flowRoot || !opensFlow(text, from, eol)) && !opensQuoted(text, from, eol);
}

/**
 * A quoted scalar that starts on the line and goes on to the next: `yaml` holds its continuation lines to
 * the indentation of the block around it, js-yaml does not. A quote opens a scalar only where a node can
 * start (line start, after `-`, `:`, `?`, `[`, `{`, `,`), so `it's` in a plain scalar does not count.
 */
function opensQuoted(text: string, from: number, eol: number): boolean {
  let last = 0; // the last non-blank character before i; 0 at the line start
  for (let i = from; i < eol; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09) continue;
    if (c === 0x23 /* # */ && isCommentStart(text, from, i)) return false;
    if ((c === 0x22 || c === 0x27) && NODE_START.has(last)) {
      const end = closingQuote(text, i, eol, c);
      if (end === -1) return true;
      i = end;
    }
    last = c;
  }
  return false;
}

/** A `#` at the line start or after white space starts a comment. */
function isCommentStart(text: string, lineStart: number, i: number): boolean {
  if (i === lineStart) return true;
  const before = text.charCodeAt(i - 1);
  return before === 0x20 || before === 0x09;
}

/** Line start (0), `-`, `:`, `?`, `[`, `{`, `,`. */
const NODE_START: ReadonlySet<number> = new Set([0, 0x2d, 0x3a, 0x3f, 0x5b, 0x7b, 0x2c]);

/** Offset of the quote closing the scalar opened at `open`, or -1 if it is not on this line. */
function closingQuote(text: string, open: number, eol: number, quote: number): number {
  for (let j = open + 1; j < eol; j++) {
    const c = text.charCodeAt(j);
    if (quote === 0x22 && c === 0x5c /* \ */) j++;
    else if (c === quote) {
      if (quote === 0x27 && text.charCodeAt(j + 1) === 0x27) j++; // '' is an escaped '
      else return j;
    }
  }
  return -1;
}

/** More `[`/`{` than `]`/`}` on the line: a flow collection continues on the next line. */
function opensFlow(text: string, from: number, eol: number): boolean {
  let depth = 0;
  for (let i = from; i < eol; i++) {
    const c = text.charCodeAt(i);
    // Brackets after any `#` may be in a comment (js-yaml even takes `[#x` for one): count none of them.
    if (c === 0x23 /* # */) break;
    if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return depth > 0;
}

function isMarker(text: string, pos: number, eol: number, marker: '---' | '...'): boolean {
  if (!text.startsWith(marker, pos)) return false;
  const after = pos + 3;
  if (after === eol) return true;
  const c = text.charCodeAt(after);
  return c === 0x20 || c === 0x09 || (c === 0x0d && after + 1 === eol);
}

/** Offset of the line's first character that is neither white space nor a comment, or -1. */
function firstContent(text: string, from: number, eol: number): number {
  for (let i = from; i < eol; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d) continue;
    return c === 0x23 /* # */ ? -1 : i;
  }
  return -1;
}
