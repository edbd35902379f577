// One bounded GET of a JSON document (a JWKS or an OpenID configuration): a deadline for the whole exchange,
// a size cap enforced while streaming, 200 only, no redirects. Every failure is an Error with a reason for logs.
// undici is imported on the first fetch: a waypoint without remote JWKS never loads it (issue #13, RSS).
import type { Agent } from 'undici';

export interface JsonFetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export class JsonFetcher {
  #agent: Agent | undefined;
  #closed = false;

  /** Fetches `url` and parses the body as JSON; rejects on timeout, non-200, oversize or bad JSON. */
  async get(url: string, limits: JsonFetchLimits): Promise<unknown> {
    const signal = AbortSignal.timeout(limits.timeoutMs);
    const { Agent, request } = await import('undici');
    if (this.#closed) throw new Error('request failed: the fetcher is closed');
    this.#agent ??= new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 30_000, connections: 4 });
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, { method: 'GET', dispatcher: this.#agent, signal, headers: { accept: 'application/json' } });
    } catch (err) {
      throw new Error(signal.aborted ? `no response within ${limits.timeoutMs}ms` : `request failed: ${messageOf(err)}`);
    }
    const body = res.body;
    // Destroying an unread body makes undici emit an abort error: it is handled here, not left uncaught.
    body.on('error', ignore);
    try {
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) throw new Error(`document of ${declared} bytes is over the ${limits.maxBytes}-byte limit`);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > limits.maxBytes) throw new Error(`document is over the ${limits.maxBytes}-byte limit`);
        chunks.push(buf);
      }
      try {
        return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      } catch (err) {
        throw new Error(`not JSON: ${messageOf(err)}`);
      }
    } catch (err) {
      body.destroy();
      if (signal.aborted) throw new Error(`no complete response within ${limits.timeoutMs}ms`);
      throw err;
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.#agent?.destroy() ?? Promise.resolve();
  }
}

function ignore(): void {}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === undefined ? err.message : `${code} ${err.message}`;
  }
  return String(err);
}
