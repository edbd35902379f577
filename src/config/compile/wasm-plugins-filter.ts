// The filter a FAIL_CLOSE WasmPlugin becomes while its module is not ready (being fetched, failed to fetch,
// or rejected by the runtime): every request gets Envoy's wasm_fail_stream reply.
import { type LocalReply, LocalReplies } from '../../errors/local-reply.js';
import type { HttpFilter } from '../../filters/types.js';

export class WasmFailClosedFilter implements HttpFilter {
  readonly name: string;

  constructor(plugin: string) {
    this.name = `wasm:${plugin} (fail-closed)`;
  }

  onRequestHeaders(): LocalReply {
    return LocalReplies.wasmFailStream;
  }
}
