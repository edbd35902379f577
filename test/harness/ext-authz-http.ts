// A real HTTP ext-authz server for tests (the behaviour of Istio's sample ext-authz): the decision comes
// from the `x-ext-authz` request header the waypoint forwards: `allow` → 200, `deny` → 403 with a body,
// `error` → 503, `slow` → answers after 2 s. Every check request is recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpCheck {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface HttpExtAuthz {
  readonly port: number;
  readonly checks: HttpCheck[];
  close(): Promise<void>;
}

export async function startHttpExtAuthz(address = '127.0.0.1'): Promise<HttpExtAuthz> {
  const checks: HttpCheck[] = [];
  const server = http.createServer((req, res) => {
    checks.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    req.resume();
    const decision = req.headers['x-ext-authz'];
    if (decision === 'allow') {
      res.writeHead(200, { 'x-ext-authz-check-result': 'allowed', 'x-ext-authz-upstream': 'from-http-authz', 'x-ext-authz-downstream': 'hello', 'x-not-forwarded': 'no' });
      res.end();
    } else if (decision === 'error') {
      res.writeHead(503);
      res.end('authz broken');
    } else if (decision === 'slow') {
      setTimeout(() => res.writeHead(200).end(), 2000).unref();
    } else {
      const body = 'denied by ext_authz for not found header `x-ext-authz: allow` in the request';
      res.writeHead(403, { 'x-ext-authz-check-result': 'denied', 'content-type': 'text/x-test', 'x-secret': 'hidden' });
      res.end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, address, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    checks,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
