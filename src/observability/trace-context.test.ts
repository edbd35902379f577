import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTraceparent, IdGenerator, parseB3Multi, parseB3Single, parseTraceparent } from './trace-context.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

const traceparent: ReadonlyArray<{ name: string; value: string | undefined; want: { traceId: string; parentSpanId: string; sampled: boolean } | undefined }> = [
  { name: 'valid sampled', value: `00-${T}-${S}-01`, want: { traceId: T, parentSpanId: S, sampled: true } },
  { name: 'valid not sampled', value: `00-${T}-${S}-00`, want: { traceId: T, parentSpanId: S, sampled: false } },
  { name: 'future version with extra fields is accepted', value: `01-${T}-${S}-03-extra`, want: { traceId: T, parentSpanId: S, sampled: true } },
  { name: 'version 00 with trailing data is invalid', value: `00-${T}-${S}-01-x`, want: undefined },
  { name: 'version ff is invalid', value: `ff-${T}-${S}-01`, want: undefined },
  { name: 'all-zero trace id is invalid', value: `00-${'0'.repeat(32)}-${S}-01`, want: undefined },
  { name: 'all-zero parent id is invalid', value: `00-${T}-${'0'.repeat(16)}-01`, want: undefined },
  { name: 'upper-case hex is invalid', value: `00-${T.toUpperCase()}-${S}-01`, want: undefined },
  { name: 'wrong length', value: `00-${T}-${S}1-01`, want: undefined },
  { name: 'absent', value: undefined, want: undefined },
];
for (const c of traceparent) {
  test(`traceparent: ${c.name}`, () => {
    const got = parseTraceparent(c.value);
    if (c.want === undefined) return assert.equal(got, undefined);
    assert.deepEqual({ traceId: got?.traceId, parentSpanId: got?.parentSpanId, sampled: got?.sampled }, c.want);
  });
}

const b3: ReadonlyArray<{ name: string; got: ReturnType<typeof parseB3Single>; want: { traceId: string | undefined; parentSpanId: string | undefined; sampled: boolean | undefined } | undefined }> = [
  { name: 'single header with sampling and parent', got: parseB3Single(`${T}-${S}-1-${'a'.repeat(16)}`), want: { traceId: T, parentSpanId: S, sampled: true } },
  { name: 'single header, 64-bit trace id is zero-extended', got: parseB3Single(`a3ce929d0e0e4736-${S}`), want: { traceId: `${'0'.repeat(16)}a3ce929d0e0e4736`, parentSpanId: S, sampled: undefined } },
  { name: 'single header deny-only', got: parseB3Single('0'), want: { traceId: undefined, parentSpanId: undefined, sampled: false } },
  { name: 'single header debug flag samples', got: parseB3Single(`${T}-${S}-d`), want: { traceId: T, parentSpanId: S, sampled: true } },
  { name: 'single header bad sampling state', got: parseB3Single(`${T}-${S}-x`), want: undefined },
  { name: 'multi headers', got: parseB3Multi(T, S, '0', undefined), want: { traceId: T, parentSpanId: S, sampled: false } },
  { name: 'multi headers, x-b3-flags 1 forces sampling', got: parseB3Multi(T, S, '0', '1'), want: { traceId: T, parentSpanId: S, sampled: true } },
  { name: 'multi headers, trace id without span id is invalid', got: parseB3Multi(T, undefined, '1', undefined), want: undefined },
  { name: 'multi headers, sampling only', got: parseB3Multi(undefined, undefined, '1', undefined), want: { traceId: undefined, parentSpanId: undefined, sampled: true } },
];
for (const c of b3) {
  test(`b3: ${c.name}`, () => {
    if (c.want === undefined) return assert.equal(c.got, undefined);
    assert.deepEqual({ traceId: c.got?.traceId, parentSpanId: c.got?.parentSpanId, sampled: c.got?.sampled }, c.want);
  });
}

test('generated ids are lower-case hex of the right length and distinct', () => {
  const ids = new IdGenerator();
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const t = ids.traceId();
    const s = ids.spanId();
    assert.match(t, /^[0-9a-f]{32}$/);
    assert.match(s, /^[0-9a-f]{16}$/);
    seen.add(s);
  }
  assert.equal(seen.size, 2000);
});

test('traceparent round-trips through format and parse', () => {
  const ctx = { traceId: T, spanId: S, parentSpanId: undefined, sampled: true, tracestate: undefined };
  assert.equal(formatTraceparent(ctx), `00-${T}-${S}-01`);
  assert.equal(parseTraceparent(formatTraceparent({ ...ctx, sampled: false }))?.sampled, false);
});
