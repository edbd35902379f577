// The demo's sample workloads: small HTTP servers standing in for bookinfo pods on loopback addresses.
// productpage calls reviews through its VIP, so that hop goes through the waypoint too.
import http from 'node:http';

export interface Workload {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly handler: http.RequestListener;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function reviews(version: string, stars: string | undefined): http.RequestListener {
  return (req, res) => json(res, 200, { service: 'reviews', version, pod: `reviews-${version}-0`, stars: stars ?? 'none', path: req.url });
}

/** GET from a Service VIP (through the waypoint), forwarding the demo's user header. */
function callVip(address: string, path: string, user: string | undefined): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (user !== undefined) headers['end-user'] = user;
    const req = http.get({ host: address, port: 9080, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
  });
}

export function demoWorkloads(vips: { readonly reviews: string }): Workload[] {
  return [
    {
      name: 'productpage-v1',
      address: '127.10.1.1',
      port: 9080,
      handler: (req, res) => {
        const user = typeof req.headers['end-user'] === 'string' ? req.headers['end-user'] : undefined;
        void callVip(vips.reviews, '/reviews/0', user).then((r) => json(res, 200, { service: 'productpage', user: user ?? 'anonymous', reviews: r }));
      },
    },
    { name: 'reviews-v1', address: '127.10.1.2', port: 9080, handler: reviews('v1', undefined) },
    { name: 'reviews-v2', address: '127.10.1.3', port: 9080, handler: reviews('v2', 'black') },
    { name: 'ratings-v1', address: '127.10.1.4', port: 9080, handler: (_req, res) => json(res, 200, { service: 'ratings', rating: 5 }) },
  ];
}

export async function startWorkloads(workloads: ReadonlyArray<Workload>): Promise<http.Server[]> {
  return Promise.all(
    workloads.map(
      (w) =>
        new Promise<http.Server>((resolve, reject) => {
          const server = http.createServer(w.handler);
          server.once('error', (err) => reject(new Error(`demo workload ${w.name} cannot listen on ${w.address}:${w.port}: ${err.message}`)));
          server.listen(w.port, w.address, () => resolve(server));
        }),
    ),
  );
}
