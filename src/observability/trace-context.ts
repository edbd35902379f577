// Trace context propagation: W3C `traceparent`/`tracestate` and Zipkin B3 (multi-header and single `b3`).
// The waypoint continues an incoming trace (and keeps its sampling decision) or starts one, and its own
// span becomes the parent of the upstream request.
import { randomFillSync } from 'node:crypto';

/** What the waypoint's span is, and what it passes upstream. */
export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  /** The caller's span, when the request carried a trace context. */
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean;
  readonly tracestate: string | undefined;
}

/** An incoming context: parent ids and the caller's sampling decision (undefined: "let the receiver decide"). */
export interface IncomingContext {
  readonly traceId: string | undefined;
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean | undefined;
  readonly format: 'w3c' | 'b3';
}

const HEX = /^[0-9a-f]+$/;
const ZERO_32 = '0'.repeat(32);
const ZERO_16 = '0'.repeat(16);

/**
 * W3C Trace Context: `version-traceid-parentid-flags`, lower-case hex; version ff and all-zero ids are
 * invalid; a future version may append fields after a dash ("parse ... and ignore the rest").
 */
export function parseTraceparent(value: string | undefined): IncomingContext | undefined {
  if (value === undefined || value.length < 55) return undefined;
  const v = value.trim();
  if (v.length < 55 || v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return undefined;
  const version = v.slice(0, 2);
  if (!HEX.test(version) || version === 'ff' || (version === '00' && v.length !== 55) || (v.length > 55 && v[55] !== '-')) return undefined;
  const traceId = v.slice(3, 35);
  const parent = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(parent) || !HEX.test(flags) || traceId === ZERO_32 || parent === ZERO_16) return undefined;
  return { traceId, parentSpanId: parent, sampled: (Number.parseInt(flags, 16) & 1) === 1, format: 'w3c' };
}

/** B3 single header: `{TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]`, or just a sampling state. */
export function parseB3Single(value: string | undefined): IncomingContext | undefined {
  if (value === undefined || value.length > 128) return undefined;
  const parts = value.trim().split('-');
  if (parts.length === 1) {
    const sampled = b3Sampling(parts[0]);
    return sampled === undefined ? undefined : { traceId: undefined, parentSpanId: undefined, sampled, format: 'b3' };
  }
  if (parts.length > 4) return undefined;
  const traceId = b3TraceId(parts[0]);
  const spanId = b3SpanId(parts[1]);
  if (traceId === undefined || spanId === undefined) return undefined;
  const sampled = parts[2] === undefined ? undefined : b3Sampling(parts[2]);
  if (parts[2] !== undefined && sampled === undefined) return undefined;
  return { traceId, parentSpanId: spanId, sampled, format: 'b3' };
}

/** B3 multi-header: `x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`, `x-b3-flags: 1` (debug implies sampled). */
export function parseB3Multi(traceId: string | undefined, spanId: string | undefined, sampled: string | undefined, flags: string | undefined): IncomingContext | undefined {
  const decision = flags === '1' ? true : sampled === undefined ? undefined : b3Sampling(sampled);
  if (traceId === undefined && spanId === undefined) {
    return decision === undefined ? undefined : { traceId: undefined, parentSpanId: undefined, sampled: decision, format: 'b3' };
  }
  const t = b3TraceId(traceId);
  const s = b3SpanId(spanId);
  if (t === undefined || s === undefined) return undefined;
  return { traceId: t, parentSpanId: s, sampled: decision, format: 'b3' };
}

function b3Sampling(v: string | undefined): boolean | undefined {
  switch (v) {
    case '1': case 'd': case 'true': return true;
    case '0': case 'false': return false;
    default: return undefined;
  }
}

/** B3 trace ids are 64 or 128 bits; a 64-bit one is left-padded to W3C's 128 ("zero-extended"). */
function b3TraceId(v: string | undefined): string | undefined {
  if (v === undefined || (v.length !== 16 && v.length !== 32)) return undefined;
  const lower = v.toLowerCase();
  if (!HEX.test(lower)) return undefined;
  const id = lower.padStart(32, '0');
  return id === ZERO_32 ? undefined : id;
}

function b3SpanId(v: string | undefined): string | undefined {
  if (v === undefined || v.length !== 16) return undefined;
  const lower = v.toLowerCase();
  return HEX.test(lower) && lower !== ZERO_16 ? lower : undefined;
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}

/** Random trace and span ids from a pooled CSPRNG buffer (one syscall per 512 ids). */
export class IdGenerator {
  readonly #pool = Buffer.allocUnsafe(4096);
  #offset = 4096;

  traceId(): string {
    return this.#hex(16);
  }

  spanId(): string {
    return this.#hex(8);
  }

  #hex(n: number): string {
    if (this.#offset + n > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const s = this.#pool.toString('hex', this.#offset, this.#offset + n);
    this.#offset += n;
    // All-zero ids are invalid; with 64+ random bits this is practically unreachable, but cheap to rule out.
    return /^0+$/.test(s) ? this.#hex(n) : s;
  }
}
