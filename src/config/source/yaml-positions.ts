// Lines of fields in a parsed YAML document: from a `yaml` Document already at hand (the slow path), or
// by parsing one document's text with `yaml` the first time a line is asked for (after the fast path).
import { type Document, LineCounter, isAlias, isMap, isNode, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { FieldPath } from '../resource.js';

/** The 1-based line of the node at `path` (`[]`: the object itself), or undefined when there is none. */
export type LineLocator = (path: FieldPath) => number | undefined;

export function documentLocator(doc: Document.Parsed, root: unknown, lines: LineCounter): LineLocator {
  return (path) => {
    const offset = startOffset(nodeAt(doc, root, path));
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
}

/**
 * A locator over `text.slice(start, end)`, one whole document whose first line is `firstLine`. The document
 * is parsed on the first call only: most resources never get a diagnostic.
 */
export function lazyLocator(text: string, start: number, end: number, firstLine: number): LineLocator {
  let locate: LineLocator | undefined;
  return (path) => {
    if (locate === undefined) {
      const lines = new LineCounter();
      const doc = parseDocument(text.slice(start, end), { lineCounter: lines, prettyErrors: false });
      const inDoc = documentLocator(doc, doc.contents, lines);
      locate = (p) => {
        const line = inDoc(p);
        return line === undefined ? undefined : line + firstLine - 1;
      };
    }
    return locate(path);
  };
}

/** The locator of the object at `prefix` inside the document `locate` covers. */
export function subLocator(locate: LineLocator, prefix: FieldPath): LineLocator {
  return prefix.length === 0 ? locate : (path) => locate([...prefix, ...path]);
}

/** The node at `path`: the Pair for a mapping entry (its key gives the line), the item for a sequence entry. */
export function nodeAt(doc: Document.Parsed, root: unknown, path: FieldPath): unknown {
  let node = root;
  for (const seg of path) {
    const cur = deref(doc, isPair(node) ? node.value : node);
    if (isMap(cur)) node = cur.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
    else if (isSeq(cur) && typeof seg === 'number') node = cur.items[seg];
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** Follows `*alias` to its anchored node so paths through aliases still find a line. */
export function deref(doc: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function startOffset(node: unknown): number | undefined {
  if (isPair(node)) return startOffset(node.key) ?? startOffset(node.value);
  return isNode(node) && node.range ? node.range[0] : undefined;
}
