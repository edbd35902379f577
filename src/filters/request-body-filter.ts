// The request body through body-phase filters: the downstream body feeds a BodyPipeline whose output is a
// stream the upstream side reads (and replays for retries) exactly as it reads the plain request. Only
// built when a chain has a request-body phase (Wasm), which also runs the request-trailers phase at its
// end; otherwise the upstream reads the request itself.
import { Readable } from 'node:stream';
import { type LocalReply, LocalReplies } from '../errors/local-reply.js';
import type { HttpExchange } from '../proxy/http-exchange.js';
import { requestBodySource } from '../listener/http2-downstream.js';
import { BodyPipeline } from './body-pipeline.js';
import { applyRequestTrailerFilters, requestTrailerStages } from './trailer-phase.js';
import type { HttpFilter } from './types.js';

export function filteredRequestBody(ex: HttpExchange, stages: ReadonlyArray<HttpFilter>): Readable {
  const source = requestBodySource(ex.req);
  const out = new Readable({ read: () => void source.resume() });
  const fail = (reason: LocalReply | 'overflow'): void => {
    // A local reply (or Envoy's 413 when a held body outgrows the buffer) ends the request here.
    ex.upstream?.cancel();
    ex.reply(reason === 'overflow' ? LocalReplies.requestPayloadTooLarge : reason);
    out.destroy();
    source.resume();
  };
  const pipeline = new BodyPipeline(ex, stages, 'request', {
    data: (chunk) => {
      if (!out.push(chunk)) source.pause();
    },
    end: () => out.push(null),
    fail,
  });
  const trailerStages = requestTrailerStages(ex.listener.servicePort.filters);
  source.on('data', (chunk: Buffer) => pipeline.push(chunk));
  source.once('end', () => {
    // Trailers come after the last DATA frame: their phase runs before the body ends upstream (whose end
    // sends them on an HTTP/2 upstream). Body phases then see the end of stream once more with no new data.
    const reply = ex.done ? undefined : applyRequestTrailerFilters(ex, trailerStages);
    if (reply !== undefined) return fail(reply);
    pipeline.end();
  });
  source.once('error', (err: Error) => out.destroy(err));
  return out;
}
