// Telemetry `accessLogging.filter.expression` is CEL. The waypoint compiles the subset users write to keep
// errors only: comparisons of `response.code` with integers, joined by `&&` / `||` (no parentheses);
// `&&` binds tighter, as in CEL. Anything else is refused with a message rather than ignored.

export type StatusPredicate = (status: number) => boolean;
export type FilterResult = { readonly ok: true; readonly predicate: StatusPredicate } | { readonly ok: false; readonly message: string };

const COMPARISON = /^response\.code\s*(==|!=|>=|<=|>|<)\s*(\d{1,3})$/;

export function compileAccessLogFilter(expression: string): FilterResult {
  const text = expression.trim();
  if (text === '') return { ok: false, message: 'the filter expression is empty' };
  const anyOf: StatusPredicate[][] = [];
  for (const disjunct of text.split('||')) {
    const allOf: StatusPredicate[] = [];
    for (const term of disjunct.split('&&')) {
      const m = COMPARISON.exec(term.trim());
      if (m === null) {
        return { ok: false, message: `unsupported filter term ${JSON.stringify(term.trim())}: this waypoint supports comparisons of response.code with an integer (==, !=, <, <=, >, >=) joined by && and ||` };
      }
      allOf.push(comparison(m[1] as string, Number(m[2])));
    }
    anyOf.push(allOf);
  }
  return { ok: true, predicate: (status) => anyOf.some((all) => all.every((p) => p(status))) };
}

function comparison(op: string, n: number): StatusPredicate {
  switch (op) {
    case '==': return (s) => s === n;
    case '!=': return (s) => s !== n;
    case '>=': return (s) => s >= n;
    case '<=': return (s) => s <= n;
    case '>': return (s) => s > n;
    default: return (s) => s < n;
  }
}
