// A plain HTTP/1.1 client for tests (node:http, no pooling surprises): one request, whole body.
import http from 'node:http';

export interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly agent?: http.Agent | false;
}

export function request(address: string, port: number, options: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: address, port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Which backend answered an echo request (the `x-backend` header), or the status when none did. */
export async function whoAnswers(address: string, port: number, options: RequestOptions = {}): Promise<string> {
  const res = await request(address, port, options);
  return typeof res.headers['x-backend'] === 'string' ? res.headers['x-backend'] : `status ${res.status}`;
}
