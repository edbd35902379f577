// One HTTP stream in one plugin VM: the proxy-wasm callbacks for the request and response phases and
// what host functions may touch while they run (header maps, held bodies, local replies, continue).
// A callback that traps fails the VM; the stream then gets the plugin's failStrategy.
import type { LocalReply } from '../../errors/local-reply.js';
import type { BodyBuffer } from '../../filters/body-buffer.js';
import type { BodyOutcome, BodyResume, FilterOutcome } from '../../filters/types.js';
import { ResponseHeadersPause } from '../../filters/response-headers-pause.js';
import type { HeaderList } from '../../http/header-list.js';
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { WasmFailStrategy } from '../wasm-plugin-spec.js';
import { Action, BufferType, MapType, StreamType } from './abi.js';
import { headerListMap, RequestHeaderMap, ResponseHeaderMap } from './header-maps.js';
import type { HeaderMap, HostContext, PropertyValue } from './host-context.js';
import { type PluginVm, VmFailed } from './plugin-vm.js';
import { streamProperty } from './stream-properties.js';
import { LocalReplies } from '../../errors/local-reply.js';

export class StreamContext implements HostContext {
  readonly id: number;
  readonly setProperties = new Map<string, Uint8Array>();
  readonly #vm: PluginVm;
  readonly #ex: HttpExchange;
  readonly #failStrategy: WasmFailStrategy;
  readonly #startEpochMs = Date.now();
  readonly #requestMap: RequestHeaderMap;
  #responseMap: ResponseHeaderMap | undefined = undefined;
  #responseTrailers: HeaderMap | undefined = undefined;
  #requestTrailers: HeaderMap | undefined = undefined;
  #requestBody: BodyBuffer | undefined = undefined;
  #responseBody: BodyBuffer | undefined = undefined;
  #resumeRequestBody: BodyResume | undefined = undefined;
  #resumeResponseBody: BodyResume | undefined = undefined;
  /** A local response asked for during a synchronous callback, returned by that callback's phase. */
  #reply: LocalReply | undefined = undefined;
  #inCallback = false;
  /** Request or response headers paused (Action.Pause): resolves the phase when the plugin continues or replies. */
  #paused: ((outcome: FilterOutcome) => void) | undefined = undefined;
  #continuedEarly = false;
  #over = false;

  constructor(vm: PluginVm, ex: HttpExchange, failStrategy: WasmFailStrategy) {
    this.#vm = vm;
    this.#ex = ex;
    this.#failStrategy = failStrategy;
    this.id = vm.newContextId();
    this.#requestMap = new RequestHeaderMap(ex);
    vm.register(this);
  }

  get #failure(): LocalReply | undefined {
    return this.#failStrategy === 'FAIL_CLOSE' ? LocalReplies.wasmFailStream : undefined;
  }

  /** Runs one callback; undefined result means it failed (the VM is gone). */
  #invoke(name: string, a: number, b?: number, c?: number): number | 'failed' {
    this.#inCallback = true;
    try {
      return this.#vm.callFor(this, name, this.id, a, b ?? 0, c ?? 0) ?? Action.Continue;
    } catch (err) {
      if (err instanceof VmFailed) return 'failed';
      throw err;
    } finally {
      this.#inCallback = false;
    }
  }

  onRequestHeaders(endOfStream: boolean): FilterOutcome | Promise<FilterOutcome> {
    const vm = this.#vm;
    if (this.#invoke('proxy_on_context_create', vm.root.id) === 'failed') return this.#failure;
    const f = this.#ex.requestHeaders.fields.length >> 1;
    const count = f + (this.#ex.requestHeaders.has('host') ? 3 : 4);
    const action = vm.abi === '0.1.0' ? this.#invoke('proxy_on_request_headers', count) : this.#invoke('proxy_on_request_headers', count, endOfStream ? 1 : 0);
    if (action === 'failed') return this.#failure;
    const reply = this.#takeReply();
    if (reply !== undefined) return reply;
    // Envoy's FilterHeadersStatus: 0 Continue, 2 ContinueAndEndStream; anything else stops iteration.
    if (action === Action.Continue || action === 2 || this.#continuedEarly) return undefined;
    return new Promise<FilterOutcome>((resolve) => (this.#paused = resolve));
  }

  onResponseHeaders(headers: HeaderList, status: number): LocalReply | ResponseHeadersPause | undefined {
    this.#responseMap = new ResponseHeaderMap(headers, status);
    this.#continuedEarly = false;
    const n = (headers.fields.length >> 1) + 1;
    const action = this.#vm.abi === '0.1.0' ? this.#invoke('proxy_on_response_headers', n) : this.#invoke('proxy_on_response_headers', n, 0);
    if (action === 'failed') return this.#failure;
    const reply = this.#takeReply();
    if (reply !== undefined) return reply;
    // StopIteration, as Envoy: the head (and the body meanwhile) wait for proxy_continue_stream(RESPONSE) or
    // a local response, e.g. from an http_call answer.
    if (action === Action.Continue || action === 2 || this.#continuedEarly) return undefined;
    return new ResponseHeadersPause(new Promise<FilterOutcome>((resolve) => (this.#paused = resolve)));
  }

  onRequestBody(body: BodyBuffer, endOfStream: boolean, resume: BodyResume): BodyOutcome {
    this.#requestBody = body;
    this.#resumeRequestBody = resume;
    const action = this.#invoke('proxy_on_request_body', body.length, endOfStream ? 1 : 0);
    if (action === 'failed') return this.#failure ?? 'continue';
    const reply = this.#takeReply();
    if (reply !== undefined) return reply;
    return action === Action.Continue ? 'continue' : 'hold';
  }

  onResponseBody(body: BodyBuffer, endOfStream: boolean, resume: BodyResume): BodyOutcome {
    this.#responseBody = body;
    this.#resumeResponseBody = resume;
    const action = this.#invoke('proxy_on_response_body', body.length, endOfStream ? 1 : 0);
    if (action === 'failed') return this.#failure ?? 'continue';
    return action === Action.Continue ? 'continue' : 'hold';
  }

  /** Request trailers (HTTP/2 or chunked HTTP/1.1); their edits reach an HTTP/2 upstream. Pausing is not supported here. */
  onRequestTrailers(trailers: HeaderList): LocalReply | undefined {
    this.#requestTrailers = headerListMap(trailers);
    const action = this.#invoke('proxy_on_request_trailers', trailers.fields.length >> 1);
    if (action === 'failed') return this.#failure;
    return this.#takeReply();
  }

  onResponseTrailers(trailers: HeaderList): void {
    this.#responseTrailers = headerListMap(trailers);
    this.#invoke('proxy_on_response_trailers', trailers.fields.length >> 1);
  }

  /** The stream is over (any way): done → log → delete, as Envoy, then the context is forgotten. */
  finish(): void {
    if (this.#over) return;
    this.#over = true;
    this.#resolvePaused(undefined);
    // Ended from inside a host call of this VM (a local response or continue from an http_call answer):
    // run the closing callbacks once the guest has returned, as Envoy defers stream destruction.
    if (this.#vm.busy) queueMicrotask(() => this.#close());
    else this.#close();
  }

  #close(): void {
    const vm = this.#vm;
    if (!vm.failed) {
      this.#invoke('proxy_on_done', 0);
      if (!vm.failed) this.#invoke('proxy_on_log', 0);
      if (!vm.failed) this.#invoke('proxy_on_delete', 0);
    }
    vm.unregister(this.id);
  }

  /** The VM failed while this stream waited on it. */
  vmFailed(): void {
    this.#resolvePaused(this.#failure);
  }

  #takeReply(): LocalReply | undefined {
    const r = this.#reply;
    this.#reply = undefined;
    return r;
  }

  #resolvePaused(outcome: FilterOutcome): void {
    const resolve = this.#paused;
    this.#paused = undefined;
    resolve?.(outcome);
  }

  // HostContext

  headerMap(type: number): HeaderMap | undefined {
    if (type === MapType.RequestHeaders) return this.#requestMap;
    if (type === MapType.ResponseHeaders) return this.#responseMap;
    if (type === MapType.RequestTrailers) return this.#requestTrailers;
    if (type === MapType.ResponseTrailers) return this.#responseTrailers;
    return undefined;
  }

  body(type: number): BodyBuffer | undefined {
    if (type === BufferType.RequestBody) return this.#requestBody;
    if (type === BufferType.ResponseBody) return this.#responseBody;
    return undefined;
  }

  sendLocalResponse(reply: LocalReply): boolean {
    const ex = this.#ex;
    if (this.#over || ex.done || ex.res.headersSent) return false;
    if (this.#inCallback && this.#paused === undefined) {
      this.#reply = reply;
      return true;
    }
    if (this.#paused !== undefined) {
      this.#resolvePaused(reply);
      return true;
    }
    // Outside a callback of this stream (an http_call answer while the body is held): answer now.
    ex.upstream?.cancel();
    ex.reply(reply);
    return true;
  }

  continueStream(type: number): boolean {
    if (type === StreamType.Request) {
      if (this.#paused !== undefined) this.#resolvePaused(undefined);
      else if (this.#inCallback) this.#continuedEarly = true;
      else this.#resumeRequestBody?.();
      return true;
    }
    if (type === StreamType.Response) {
      if (this.#paused !== undefined) this.#resolvePaused(undefined);
      else if (this.#inCallback) this.#continuedEarly = true;
      else this.#resumeResponseBody?.();
      return true;
    }
    return false;
  }

  closeStream(): boolean {
    const ex = this.#ex;
    if (ex.done) return false;
    ex.upstream?.cancel();
    ex.abortResponse('DC', 'wasm_close_stream', new Error('closed by wasm plugin'));
    return true;
  }

  streamProperty(path: ReadonlyArray<string>): PropertyValue | undefined {
    return streamProperty(this.#ex, path, this.#responseMap?.pairs(), this.#startEpochMs);
  }

  done(): boolean {
    return true;
  }
}
