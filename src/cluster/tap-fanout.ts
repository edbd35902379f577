// `/debug/tap` on a cluster primary: one NDJSON stream per ready worker, interleaved line by line into the
// client's response, each line tagged with its worker. The primary always reads the workers' streams (so their
// taps never see a slow reader and never slow the proxy); when the client reads slowly, lines are dropped here
// once its buffer passes a bound and the count is reported when it catches up, as a worker's TapHub does.
// Closing the client closes every worker stream.
import http from 'node:http';
import { DEFAULT_TAP_BUFFER_BYTES } from '../debug/tap-hub.js';

export interface TapWorker {
  readonly id: number;
  readonly adminPort: number;
}

/** Longest partial line kept while waiting for its newline (a trace is a few KiB at most). */
const MAX_LINE_BYTES = 1024 * 1024;

export function tapFanout(workers: ReadonlyArray<TapWorker>, pathAndQuery: string, res: http.ServerResponse, maxBufferBytes = DEFAULT_TAP_BUFFER_BYTES): void {
  let dropped = 0;
  // The client gets its headers once every worker has answered (or failed): a worker's tap subscribes before
  // it sends its headers, so from then on the client misses nothing any worker serves.
  let pending = workers.length;
  const subscribed = (): void => {
    if (--pending !== 0 || res.headersSent || res.destroyed) return;
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
  };
  let open = workers.length;
  const upstreams: http.ClientRequest[] = [];
  const write = (line: string): void => {
    if (!res.headersSent) return;
    if (res.writableLength > maxBufferBytes) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      res.write(`${JSON.stringify({ dropped })}\n`);
      dropped = 0;
    }
    res.write(line);
  };
  const finished = (): void => {
    // Every worker stream is gone (workers stopped): end the client's stream rather than hang it.
    if (--open === 0 && !res.writableEnded) res.end();
  };
  for (const w of workers) {
    const tag = `{"worker":${w.id},`;
    let answered = false;
    const upstream = http.get({ host: '127.0.0.1', port: w.adminPort, path: pathAndQuery, agent: false }, (answer) => {
      answered = true;
      subscribed();
      if (answer.statusCode !== 200) {
        answer.resume();
        return;
      }
      answer.setEncoding('utf8');
      let partial = '';
      answer.on('data', (chunk: string) => {
        partial += chunk;
        let nl = partial.indexOf('\n');
        while (nl >= 0) {
          const line = partial.slice(0, nl + 1);
          partial = partial.slice(nl + 1);
          // Every line is a JSON object; splice the worker id in without re-parsing it.
          if (line.startsWith('{') && line.length > 3) write(tag + line.slice(1));
          nl = partial.indexOf('\n');
        }
        if (partial.length > MAX_LINE_BYTES) partial = '';
      });
    });
    upstream.once('close', () => {
      if (!answered) subscribed();
      finished();
    });
    upstream.on('error', () => undefined);
    upstreams.push(upstream);
  }
  if (workers.length === 0) res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end();
  res.once('close', () => {
    for (const u of upstreams) u.destroy();
  });
}
