// Downloads a Wasm module over http(s) with undici: one GET, a timeout, a size cap, and errors in words a user can act on.
// undici is imported on first use: a waypoint without remote Wasm modules never loads it (issue #13, RSS).
import { ModuleFetchError } from './module-request.js';

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

export interface HttpResponseBytes {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array;
}

/** GET `url`, following up to 5 redirects; any status is returned, the body read up to `maxBytes`. */
export async function httpGet(url: string, headers: Readonly<Record<string, string>>, limits: FetchLimits): Promise<HttpResponseBytes> {
  const { request } = await import('undici');
  let target = url;
  let sendHeaders = headers;
  for (let hop = 0; hop <= 5; hop++) {
    const signal = limits.signal === undefined ? AbortSignal.timeout(limits.timeoutMs) : AbortSignal.any([limits.signal, AbortSignal.timeout(limits.timeoutMs)]);
    let res;
    try {
      res = await request(target, { method: 'GET', headers: sendHeaders, signal, headersTimeout: limits.timeoutMs, bodyTimeout: limits.timeoutMs });
    } catch (err) {
      throw new ModuleFetchError(`${target} is unreachable: ${describeError(err)}`);
    }
    const location = res.headers['location'];
    if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
      await res.body.dump();
      const next = new URL(location, target);
      // Credentials are for the registry, never for the storage a blob redirects to.
      if (next.host !== new URL(target).host) sendHeaders = Object.fromEntries(Object.entries(sendHeaders).filter(([k]) => k.toLowerCase() !== 'authorization'));
      target = next.toString();
      continue;
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      res.body.destroy();
      throw new ModuleFetchError(`${target}: the response is ${declared} bytes, over the ${limits.maxBytes}-byte limit for a Wasm module`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > limits.maxBytes) {
          res.body.destroy();
          throw new ModuleFetchError(`${target}: the response is over the ${limits.maxBytes}-byte limit for a Wasm module`);
        }
        chunks.push(buf);
      }
    } catch (err) {
      if (err instanceof ModuleFetchError) throw err;
      throw new ModuleFetchError(`${target}: the download failed: ${describeError(err)}`);
    }
    return { status: res.statusCode, headers: res.headers, body: new Uint8Array(Buffer.concat(chunks)) };
  }
  throw new ModuleFetchError(`${url}: too many redirects`);
}

/** A module served over http(s): anything but 200 is a failure naming the status. */
export async function fetchHttpModule(url: string, limits: FetchLimits): Promise<Uint8Array> {
  const res = await httpGet(url, {}, limits);
  if (res.status !== 200) throw new ModuleFetchError(`${url} answered HTTP ${res.status}`);
  return res.body;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    if (err.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timed out';
    return `${err.message}${cause}`;
  }
  return String(err);
}
