// Runs a filter chain's request-headers phase by index. Synchronous filters never allocate a promise;
// the first filter that returns one switches the rest of the walk to async.
import type { HttpExchange } from '../proxy/http-exchange.js';
import type { FilterChain, FilterOutcome } from './types.js';

export function runRequestHeaders(chain: FilterChain, ex: HttpExchange, from = 0): FilterOutcome | Promise<FilterOutcome> {
  for (let i = from; i < chain.length; i++) {
    const phase = chain[i]?.onRequestHeaders;
    if (phase === undefined) continue;
    const outcome = phase.call(chain[i], ex);
    if (outcome instanceof Promise) return outcome.then((o) => (o !== undefined ? o : runRequestHeaders(chain, ex, i + 1)));
    if (outcome !== undefined) return outcome;
  }
  return undefined;
}
