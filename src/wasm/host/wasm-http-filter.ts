// The HttpFilter a WasmPlugin becomes on a port: each request gets a stream context in the plugin's live
// VM; when there is none (the module could not load, the VM failed and cannot be replaced yet) the
// failStrategy decides: FAIL_CLOSE answers 503 `wasm_fail_stream`, FAIL_OPEN skips the plugin.
import type { LocalReply } from '../../errors/local-reply.js';
import type { BodyBuffer } from '../../filters/body-buffer.js';
import type { BodyOutcome, BodyResume, FilterOutcome, HttpFilter } from '../../filters/types.js';
import type { ResponseHeadersPause } from '../../filters/response-headers-pause.js';
import type { HeaderList } from '../../http/header-list.js';
import { requestHasBody } from '../../listener/http2-downstream.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { WasmFailStrategy } from '../wasm-plugin-spec.js';
import type { PluginVm } from './plugin-vm.js';
import { StreamContext } from './stream-context.js';
import { LocalReplies } from '../../errors/local-reply.js';

/** Where a filter gets its plugin's VM: the live one, or why there is none. */
export interface VmSource {
  vm(): PluginVm | string;
}

export class WasmHttpFilter implements HttpFilter {
  readonly name: string;
  readonly #source: VmSource;
  readonly #failStrategy: WasmFailStrategy;
  readonly #streams = new WeakMap<HttpExchange, StreamContext>();

  constructor(name: string, source: VmSource, failStrategy: WasmFailStrategy) {
    this.name = name;
    this.#source = source;
    this.#failStrategy = failStrategy;
  }

  onRequestHeaders(ex: HttpExchange): FilterOutcome | Promise<FilterOutcome> {
    const vm = this.#source.vm();
    if (typeof vm === 'string') return this.#failStrategy === 'FAIL_CLOSE' ? LocalReplies.wasmFailStream : undefined;
    const ctx = new StreamContext(vm, ex, this.#failStrategy);
    this.#streams.set(ex, ctx);
    return ctx.onRequestHeaders(!requestHasBody(ex.req));
  }

  onResponseHeaders(ex: HttpExchange, headers: HeaderList): LocalReply | ResponseHeadersPause | undefined {
    return this.#streams.get(ex)?.onResponseHeaders(headers, ex.status);
  }

  onRequestBody(ex: HttpExchange, body: BodyBuffer, endOfStream: boolean, resume: BodyResume): BodyOutcome {
    return this.#streams.get(ex)?.onRequestBody(body, endOfStream, resume) ?? 'continue';
  }

  onResponseBody(ex: HttpExchange, body: BodyBuffer, endOfStream: boolean, resume: BodyResume): BodyOutcome {
    return this.#streams.get(ex)?.onResponseBody(body, endOfStream, resume) ?? 'continue';
  }

  onRequestTrailers(ex: HttpExchange, trailers: HeaderList): LocalReply | undefined {
    return this.#streams.get(ex)?.onRequestTrailers(trailers);
  }

    onResponseTrailers(ex: HttpExchange, trailers: HeaderList): void {
    this.#streams.get(ex)?.onResponseTrailers(trailers);
  }

  onLog(ex: HttpExchange): void {
    const ctx = this.#streams.get(ex);
    if (ctx === undefined) return;
    this.#streams.delete(ex);
    ctx.finish();
  }
}

/** A plugin that cannot run at all (module missing, failed to load): only its failStrategy remains. */
export function failedPluginFilter(name: string, failStrategy: WasmFailStrategy): HttpFilter {
  if (failStrategy === 'FAIL_OPEN') return { name };
  return { name, onRequestHeaders: () => LocalReplies.wasmFailStream };
}
