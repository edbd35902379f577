// JSON calls to the Kubernetes API server with a KubeConfig's credentials (client-node applies TLS,
// tokens, exec and OIDC auth): paginated lists, get, create, replace. Plain JSON in and out, no typed
// models, so objects compare and round-trip exactly as the server sent them.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** A failed call. `statusCode` is what client-node's ListWatch looks at (410 means re-list). */
export class ApiError extends Error {
  readonly statusCode: number;
  /** The Status object's `reason` (`Conflict`, `NotFound`, `Expired`, ...) or a transport error code. */
  readonly reason: string;

  constructor(statusCode: number, reason: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

export type JsonObject = Record<string, unknown>;

export interface ListResult {
  readonly items: JsonObject[];
  readonly resourceVersion: string;
}

export interface KubeRestOptions {
  /** Per request; a slow API server fails the call instead of hanging it. */
  readonly timeoutMs: number;
  readonly userAgent: string;
  /** Items per page of a list (`limit`); the pages are joined before returning. */
  readonly pageSize: number;
}

const MAX_BODY = 256 * 1024 * 1024;

export class KubeRest {
  readonly #kc: KubeConfig;
  readonly #server: URL;
  readonly #options: KubeRestOptions;

  constructor(kc: KubeConfig, options: KubeRestOptions) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    this.#kc = kc;
    this.#server = new URL(cluster.server);
    this.#options = options;
  }

  get server(): string {
    return this.#server.origin;
  }

  get(path: string): Promise<JsonObject> {
    return this.request('GET', path, undefined);
  }

  create(path: string, body: JsonObject): Promise<JsonObject> {
    return this.request('POST', path, body);
  }

  /** PUT: the server rejects it with 409 Conflict when `metadata.resourceVersion` is stale. */
  replace(path: string, body: JsonObject): Promise<JsonObject> {
    return this.request('PUT', path, body);
  }

  /** Every page of a collection, with the list's resourceVersion (where a watch starts). */
  async list(path: string): Promise<ListResult> {
    const items: JsonObject[] = [];
    let cont = '';
    for (;;) {
      const query = new URLSearchParams({ limit: String(this.#options.pageSize) });
      if (cont !== '') query.set('continue', cont);
      const page = await this.request('GET', `${path}?${query.toString()}`, undefined);
      const pageItems = page['items'];
      if (Array.isArray(pageItems)) for (const item of pageItems) if (isObject(item)) items.push(item);
      const meta = isObject(page['metadata']) ? page['metadata'] : {};
      const next = typeof meta['continue'] === 'string' ? meta['continue'] : '';
      if (next === '') return { items, resourceVersion: typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : '' };
      cont = next;
    }
  }

  async request(method: string, path: string, body: JsonObject | undefined): Promise<JsonObject> {
    const url = new URL(this.#server.pathname.replace(/\/$/, '') + path, this.#server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const opts: https.RequestOptions = {
      method,
      headers: {
        accept: 'application/json',
        'user-agent': this.#options.userAgent,
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
      },
    };
    // Adds the agent (CA, client certificate), the Authorization header and basic auth.
    await this.#kc.applyToHTTPSOptions(opts);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<JsonObject>((resolve, reject) => {
      const req = transport.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new ApiError(0, 'TooLarge', `${method} ${path}: response larger than ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.on('error', (err) => reject(transportError(method, path, err)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text === '' ? {} : JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300 && isObject(parsed)) return resolve(parsed);
          const obj = isObject(parsed) ? parsed : {};
          const reason = typeof obj['reason'] === 'string' ? obj['reason'] : http.STATUS_CODES[status] ?? 'Unknown';
          const message = typeof obj['message'] === 'string' ? obj['message'] : text.slice(0, 200);
          reject(new ApiError(status, reason, `${method} ${path}: ${status} ${reason}${message === '' ? '' : `: ${message}`}`));
        });
      });
      req.setTimeout(this.#options.timeoutMs, () => req.destroy(new ApiError(0, 'Timeout', `${method} ${path}: no answer within ${this.#options.timeoutMs} ms`)));
      req.on('error', (err) => reject(transportError(method, path, err)));
      req.end(payload);
    });
  }
}

function transportError(method: string, path: string, err: Error): ApiError {
  if (err instanceof ApiError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'TransportError';
  return new ApiError(0, code, `${method} ${path}: ${err.message}`);
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `metadata` of an API object as a plain record (empty when absent). */
export function metadataOf(obj: JsonObject): JsonObject {
  const meta = obj['metadata'];
  return isObject(meta) ? meta : {};
}

export function stringField(obj: JsonObject, key: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' ? v : undefined;
}
