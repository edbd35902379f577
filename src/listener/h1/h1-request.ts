// A bodiless HTTP/1.1 request read by the fast downstream path: the fields of node:http's IncomingMessage the
// proxy reads, without a stream behind them (there is no body to stream; requests with one go to node:http).
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { ParsedRequestHead } from './request-head.js';

const NO_TRAILERS: string[] = [];

export class H1Request {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly rawTrailers: string[] = NO_TRAILERS;
  readonly trailers: Record<string, string | undefined> = {};
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly socket: Socket;
  /** The body (none) is complete from the start. */
  readonly complete = true;
  readonly readableEnded = true;

  constructor(head: ParsedRequestHead, socket: Socket) {
    this.method = head.method;
    this.url = head.target;
    // Built as IncomingMessage builds it (request-head.ts addField): set-cookie is the only list.
    this.headers = head.headers as IncomingHttpHeaders;
    this.rawHeaders = head.rawHeaders;
    this.socket = socket;
  }
}
