// What an external authorization check decided, independent of the transport (HTTP or gRPC).

/** A header edit the provider asked for: `set` replaces every value, `append` adds one. */
export interface HeaderEdit {
  readonly name: string;
  readonly value: string;
  readonly op: 'set' | 'append' | 'add-if-absent' | 'overwrite-if-exists';
}

export type ExtAuthzResult =
  | {
      readonly kind: 'ok';
      /** Edits to the request before it goes upstream. */
      readonly upstream: ReadonlyArray<HeaderEdit>;
      readonly removeUpstream: ReadonlyArray<string>;
      /** Headers added to the response sent downstream. */
      readonly downstream: ReadonlyArray<HeaderEdit>;
    }
  | {
      readonly kind: 'denied';
      readonly status: number;
      /** Flat [name, value, ...] list for the downstream reply. */
      readonly headers: ReadonlyArray<string>;
      readonly body: string;
    }
  /** Transport failure, timeout, 5xx from an HTTP provider, or a gRPC error status. */
  | { readonly kind: 'error'; readonly reason: string };
