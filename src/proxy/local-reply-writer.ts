// Writes a LocalReply to the downstream response the way Envoy does.
import type { ServerResponse } from 'node:http';
import type { LocalReply } from '../errors/local-reply.js';

export function writeLocalReply(res: ServerResponse, reply: LocalReply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = reply.body;
  if (body === '') {
    res.writeHead(reply.status, ['content-length', '0', 'server', 'istio-envoy']);
    res.end();
    return;
  }
  res.writeHead(reply.status, [
    'content-length', String(Buffer.byteLength(body)),
    'content-type', 'text/plain',
    'server', 'istio-envoy',
  ]);
  res.end(body);
}
