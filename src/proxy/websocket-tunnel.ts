// WebSocket (RFC 6455) upgrade passthrough, as Istio enables it on every HTTP route: the upgrade request is
// routed and filtered like any other, sent upstream with its Upgrade header, and once the backend answers
// 101 the two connections are spliced until either side closes.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HeaderList } from '../http/header-list.js';
import type { HttpExchange } from './http-exchange.js';

export class WebSocketTunnel {
  /** The `Upgrade` value sent upstream (`websocket`). */
  readonly protocol: string;
  readonly #res: ServerResponse;
  readonly #socket: Duplex;
  readonly #head: Buffer;

  /** `res` is the response object bound to the client's socket, used for anything but a 101. */
  constructor(protocol: string, res: ServerResponse, socket: Duplex, head: Buffer) {
    this.protocol = protocol;
    this.#res = res;
    this.#socket = socket;
    this.#head = head;
  }

  /** The backend switched protocols: answer the client the same way, then relay bytes both ways. */
  established(ex: HttpExchange, status: number, headers: Readonly<Record<string, string | string[] | undefined>>, upstream: Duplex): void {
    const downstream = this.#socket;
    // From here on the socket is ours, not the HTTP response's (its close is not a client disconnect).
    this.#res.detachSocket(downstream as Parameters<ServerResponse['detachSocket']>[0]);
    const list = new HeaderList([]);
    for (const name in headers) {
      if (name === 'server') continue;
      const v = headers[name];
      if (typeof v === 'string') list.add(name, v);
      else if (v !== undefined) for (const one of v) list.add(name, one);
    }
    list.add('server', 'istio-envoy');
    ex.status = status;
    ex.applyResponseFilters(list);
    let head = `HTTP/1.1 ${status} Switching Protocols\r\n`;
    const f = list.fields;
    for (let i = 0; i < f.length; i += 2) head += `${f[i] as string}: ${f[i + 1] as string}\r\n`;
    downstream.write(`${head}\r\n`);
    if (this.#head.length > 0) upstream.write(this.#head);
    let open = 2;
    const closed = (): void => {
      if (--open === 0) ex.complete();
    };
    splice(downstream, upstream, closed);
    splice(upstream, downstream, closed);
  }
}

/** Pipes `from` into `to`; an error or close on `from` ends `to` too. Calls `done` once `from` is closed. */
function splice(from: Duplex, to: Duplex, done: () => void): void {
  from.pipe(to);
  from.once('error', () => to.destroy());
  from.once('close', () => {
    if (!to.destroyed) to.end();
    done();
  });
}
