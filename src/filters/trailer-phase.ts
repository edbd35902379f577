// Response trailers through filters that have a trailers phase (Wasm plugins), in encoder order (reverse).
// Chains without one never convert the trailers.
import { HeaderList } from '../http/header-list.js';
import type { HttpExchange } from '../proxy/http-exchange.js';
import type { FilterChain, HttpFilter } from './types.js';

type Trailers = Record<string, string | string[] | undefined>;

const stagesByChain = new WeakMap<FilterChain, ReadonlyArray<HttpFilter>>();

function trailerStages(chain: FilterChain): ReadonlyArray<HttpFilter> {
  let stages = stagesByChain.get(chain);
  if (stages === undefined) {
    stages = chain.filter((f) => f.onResponseTrailers !== undefined).reverse();
    stagesByChain.set(chain, stages);
  }
  return stages;
}

/** The trailers as the filters left them (the same object when no filter has the phase). */
export function applyResponseTrailerFilters(ex: HttpExchange, chain: FilterChain, trailers: Trailers): Trailers {
  if (chain.length === 0) return trailers;
  const stages = trailerStages(chain);
  if (stages.length === 0) return trailers;
  const fields: string[] = [];
  for (const name in trailers) {
    const v = trailers[name];
    if (typeof v === 'string') fields.push(name, v);
    else if (v !== undefined) for (const x of v) fields.push(name, x);
  }
  const list = new HeaderList(fields);
  for (const f of stages) f.onResponseTrailers?.(ex, list);
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < list.fields.length; i += 2) {
    const name = (list.fields[i] as string).toLowerCase();
    const value = list.fields[i + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
