// What host functions see of the context a callback runs for (proxy_set_effective_context may switch it):
// the root (plugin) context or one HTTP stream. The root context answers "not available" for stream data.
import type { BodyBuffer } from '../../filters/body-buffer.js';
import type { LocalReply } from '../../errors/local-reply.js';

/** A header or trailer map as the ABI exposes it: flat [name, value, ...] with HTTP/2 pseudo-headers. */
export interface HeaderMap {
  pairs(): ReadonlyArray<string>;
  get(name: string): string | undefined;
  add(name: string, value: string): void;
  /** Sets one value (adds when absent). */
  replace(name: string, value: string): void;
  remove(name: string): void;
  setPairs(fields: ReadonlyArray<string>): void;
}

export type PropertyValue = string | Uint8Array | number | bigint | boolean | ReadonlyArray<string>;

export interface HostContext {
  readonly id: number;
  /** Undefined when the map does not exist for this context or not at this point of the stream. */
  headerMap(type: number): HeaderMap | undefined;
  body(type: number): BodyBuffer | undefined;
  sendLocalResponse(reply: LocalReply): boolean;
  continueStream(type: number): boolean;
  closeStream(type: number): boolean;
  /** Stream attributes (request.*, response.*, source.*, ...); undefined when unknown here. */
  streamProperty(path: ReadonlyArray<string>): PropertyValue | undefined;
  /** Values set with proxy_set_property (filter state), visible to later reads on the same stream. */
  readonly setProperties: Map<string, Uint8Array>;
  /** The VM failed: a stream waiting on it applies its failStrategy. */
  vmFailed?(): void;
  /** proxy_done: the plugin finished deferred work after returning false from proxy_on_done. */
  done(): boolean;
}
