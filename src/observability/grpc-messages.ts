// gRPC message counting for istio_request_messages_total / istio_response_messages_total: each message on
// the wire is a 5-byte prefix (compressed flag, 4-byte big-endian length) and its payload ("Length-Prefixed-
// Message", gRPC over HTTP/2), so counting prefixes across arbitrary chunk boundaries counts messages.
import type { DownstreamRequest } from '../listener/http2-downstream.js';

export class GrpcFrameCounter {
  messages = 0;
  /** Body bytes seen (prefixes and payloads). */
  bytes = 0;
  /** Prefix bytes still to read for the current message (5 = at a message boundary). */
  #prefixLeft = 5;
  #length = 0;
  #payloadLeft = 0;

  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    this.bytes += n;
    while (i < n) {
      if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, n - i);
        this.#payloadLeft -= take;
        i += take;
        continue;
      }
      // Byte 0 of the prefix is the compressed flag; bytes 1-4 the length.
      if (this.#prefixLeft < 5) this.#length = this.#length * 256 + (chunk[i] as number);
      this.#prefixLeft--;
      i++;
      if (this.#prefixLeft === 0) {
        this.messages++;
        this.#payloadLeft = this.#length;
        this.#length = 0;
        this.#prefixLeft = 5;
      }
    }
  }
}

/** Both directions of one gRPC request. */
export class GrpcMessageCounts {
  readonly request = new GrpcFrameCounter();
  readonly response = new GrpcFrameCounter();

  /**
   * Counts request messages as they arrive. Over HTTP/2 the request's stream is already flowing into the
   * compat request object, so one more `data` listener observes without changing flow or backpressure.
   * HTTP/1.1 (gRPC-Web) request bodies are not tapped: a listener there would start the body flowing
   * before the upstream reads it; their request messages count as 0.
   */
  static attach(req: DownstreamRequest): GrpcMessageCounts {
    const counts = new GrpcMessageCounts();
    if ('stream' in req) {
      // The compat request attaches its own `data` listener to the stream on its first read; a listener
      // added before that would take the chunks and leave the request body empty, so trigger that read first.
      req.read(0);
      req.stream.on('data', (chunk: Buffer) => counts.request.push(chunk));
    }
    return counts;
  }
}
