// The tracing stage of a port's filter chain. Runs first (in Envoy tracing belongs to the connection
// manager, around every filter): extracts W3C or B3 context, decides sampling, and propagates this
// waypoint's span upstream. The span itself is finished and exported when the request is logged.
import type { HttpFilter } from '../filters/types.js';
import type { HeaderList } from '../http/header-list.js';
import type { HttpExchange } from '../proxy/http-exchange.js';
import type { TracingPolicy } from './telemetry-config.js';
import { formatTraceparent, type IdGenerator, type IncomingContext, parseB3Multi, parseB3Single, parseTraceparent, type TraceContext } from './trace-context.js';

/** A request's trace: its context and the policy that will finish its span. */
export interface ActiveTrace extends TraceContext {
  readonly policy: TracingPolicy;
}

export class TracingFilter implements HttpFilter {
  readonly name = 'envoy.tracing';
  readonly #policy: TracingPolicy;
  readonly #ids: IdGenerator;
  readonly #random: () => number;

  constructor(policy: TracingPolicy, ids: IdGenerator, random: () => number) {
    this.#policy = policy;
    this.#ids = ids;
    this.#random = random;
  }

  onRequestHeaders(ex: HttpExchange): undefined {
    const h = ex.req.headers;
    const incoming = parseTraceparent(single(h['traceparent']))
      ?? parseB3Single(single(h['b3']))
      ?? parseB3Multi(single(h['x-b3-traceid']), single(h['x-b3-spanid']), single(h['x-b3-sampled']), single(h['x-b3-flags']));
    const sampled = incoming?.sampled ?? this.#random() * 100 < this.#policy.samplingPercent;
    const trace: ActiveTrace = {
      traceId: incoming?.traceId ?? this.#ids.traceId(),
      spanId: this.#ids.spanId(),
      parentSpanId: incoming?.parentSpanId,
      sampled,
      tracestate: incoming?.format === 'w3c' ? single(h['tracestate']) : undefined,
      policy: this.#policy,
    };
    ex.trace = trace;
    inject(ex.requestHeaders, trace, incoming);
    return undefined;
  }
}

/**
 * Writes the context for the upstream request: always `traceparent`, and B3 too when the caller spoke B3,
 * so either kind of application keeps its trace. Written without marking the list modified: these headers
 * never take part in routing, and a modified list makes route selection rebuild the header object.
 */
function inject(list: HeaderList, ctx: TraceContext, incoming: IncomingContext | undefined): void {
  const f = list.fields;
  replace(f, 'traceparent', formatTraceparent(ctx));
  if (incoming?.format !== 'b3') return;
  if (hasField(f, 'b3')) replace(f, 'b3', `${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '1' : '0'}`);
  else {
    replace(f, 'x-b3-traceid', ctx.traceId);
    replace(f, 'x-b3-spanid', ctx.spanId);
    replace(f, 'x-b3-sampled', ctx.sampled ? '1' : '0');
    if (ctx.parentSpanId !== undefined) replace(f, 'x-b3-parentspanid', ctx.parentSpanId);
  }
}

function hasField(f: ReadonlyArray<string>, lower: string): boolean {
  for (let i = 0; i < f.length; i += 2) if ((f[i] as string).length === lower.length && (f[i] as string).toLowerCase() === lower) return true;
  return false;
}

function replace(f: string[], lower: string, value: string): void {
  let found = false;
  for (let i = 0; i < f.length; ) {
    const name = f[i] as string;
    if (name.length === lower.length && name.toLowerCase() === lower) {
      if (found) {
        f.splice(i, 2);
        continue;
      }
      f[i + 1] = value;
      found = true;
    }
    i += 2;
  }
  if (!found) f.push(lower, value);
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
