import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileAccessLogFilter } from './access-log-filter.js';

const cases: ReadonlyArray<{ name: string; expr: string; logs: number[]; skips: number[] }> = [
  { name: 'errors only', expr: 'response.code >= 400', logs: [400, 503], skips: [200, 302] },
  { name: 'equality', expr: 'response.code == 503', logs: [503], skips: [500, 200] },
  { name: '&& binds tighter than ||', expr: 'response.code >= 500 || response.code >= 400 && response.code < 404', logs: [400, 403, 500], skips: [404, 200] },
  { name: 'not equal', expr: 'response.code != 200', logs: [0, 404], skips: [200] },
];
for (const c of cases) {
  test(c.name, () => {
    const r = compileAccessLogFilter(c.expr);
    assert.ok(r.ok);
    for (const s of c.logs) assert.equal(r.predicate(s), true, String(s));
    for (const s of c.skips) assert.equal(r.predicate(s), false, String(s));
  });
}

for (const expr of ['request.headers["x"] == "y"', 'response.code >= ', '(response.code >= 400)', '']) {
  test(`unsupported expression is refused: ${JSON.stringify(expr)}`, () => {
    const r = compileAccessLogFilter(expr);
    assert.equal(r.ok, false);
  });
}
