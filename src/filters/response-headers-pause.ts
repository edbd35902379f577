// A response-headers phase that stopped iteration (proxy-wasm Action.Pause, Envoy's StopIteration): the
// head, and any body that arrives meanwhile, are held until the filter continues or answers locally.
import type { LocalReply } from '../errors/local-reply.js';
import type { FilterChain, FilterOutcome } from './types.js';

export class ResponseHeadersPause {
  /** Resolves with undefined when the filter continues, with a LocalReply when it answers instead. */
  readonly resumed: Promise<FilterOutcome>;
  /** Where the pausing filter sits (set by the exchange): iteration goes on from the filter after it. */
  chain: FilterChain | undefined = undefined;
  index = 0;

  constructor(resumed: Promise<FilterOutcome>) {
    this.resumed = resumed;
  }
}
