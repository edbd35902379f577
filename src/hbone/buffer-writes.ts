// Works around a Node.js 20 defect: a corked write of several chunks that include strings to an
// Http2Stream (what node:http does for a header plus body) can put corrupted bytes on the wire — the
// string copies are released before nghttp2 sends them. Buffers are kept alive by the caller, so every
// string chunk is turned into a Buffer before it reaches the stream.
import type { Http2Stream } from 'node:http2';

type Chunk = { chunk: unknown; encoding: BufferEncoding };
/** Node's stream_base_commons dispatches on this: `buffer` means "write the Buffer as is". */
const BUFFER = 'buffer' as BufferEncoding;

export function buffersOnly(stream: Http2Stream): void {
  const writev = stream._writev;
  const write = stream._write;
  if (writev !== undefined) {
    stream._writev = function (chunks: Chunk[], cb: (err?: Error | null) => void): void {
      const buffers: Chunk[] & { allBuffers?: boolean } = chunks.map((c) => (typeof c.chunk === 'string' ? { chunk: Buffer.from(c.chunk, c.encoding), encoding: BUFFER } : c));
      buffers.allBuffers = true; // as Writable marks an all-Buffer batch
      writev.call(this, buffers, cb);
    };
  }
  stream._write = function (chunk: unknown, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (typeof chunk === 'string') write.call(this, Buffer.from(chunk, encoding), BUFFER, cb);
    else write.call(this, chunk, encoding, cb);
  };
}
