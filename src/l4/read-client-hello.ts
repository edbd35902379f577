// Reads a downstream connection until its ClientHello is complete, refused, or too slow: the listener
// filter step (Envoy's tls_inspector with listener_filters_timeout) before a TLSRoute can be chosen.
import type { Duplex } from 'node:stream';
import { ClientHelloReader, type ClientHelloResult } from './client-hello.js';

export type HelloOutcome =
  | { readonly kind: 'hello'; readonly sni: string | undefined; readonly alpn: ReadonlyArray<string> }
  | { readonly kind: 'refused'; readonly details: HelloRefusal }
  /** The client closed or reset the connection before finishing its ClientHello. */
  | { readonly kind: 'closed' };

/** Connection termination details when the ClientHello cannot be used. */
export type HelloRefusal = 'not_tls' | 'client_hello_invalid' | 'client_hello_too_large' | 'client_hello_timeout';

/**
 * Reads `stream` (which may be paused, with bytes unshifted by protocol sniffing) until the outcome is
 * known, then leaves it paused with no listeners of ours attached and calls `done` exactly once with the
 * outcome and every byte read, to be replayed upstream.
 */
export function readClientHello(stream: Duplex, timeoutMs: number, done: (outcome: HelloOutcome, head: Buffer) => void): void {
  const reader = new ClientHelloReader();
  let finished = false;
  const finish = (outcome: HelloOutcome): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    stream.off('data', onData);
    stream.off('end', onClosed);
    stream.off('close', onClosed);
    stream.off('error', onClosed);
    stream.pause();
    done(outcome, reader.buffered);
  };
  const onData = (chunk: Buffer): void => {
    const r = reader.push(chunk);
    if (r.kind !== 'need-more') finish(outcomeOf(r));
  };
  const onClosed = (): void => finish({ kind: 'closed' });
  const timer = setTimeout(() => finish({ kind: 'refused', details: 'client_hello_timeout' }), timeoutMs);
  stream.on('data', onData);
  stream.once('end', onClosed);
  stream.once('close', onClosed);
  stream.once('error', onClosed);
  stream.resume();
}

function outcomeOf(r: Exclude<ClientHelloResult, { kind: 'need-more' }>): HelloOutcome {
  switch (r.kind) {
    case 'hello':
      return { kind: 'hello', sni: r.sni, alpn: r.alpn };
    case 'not-tls':
      return { kind: 'refused', details: 'not_tls' };
    case 'too-large':
      return { kind: 'refused', details: 'client_hello_too_large' };
    case 'invalid':
      return { kind: 'refused', details: 'client_hello_invalid' };
  }
}
