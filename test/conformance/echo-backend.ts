// The conformance suite's echo backend, after the Gateway API's echo-basic: it answers with what it
// received (method, path, host, headers, which backend and pod), keeps a log of requests (mirrors are
// checked there), and can be told by query parameters to delay, fail, or fail N times then succeed.
// It also speaks just enough WebSocket (RFC 6455) to echo text frames.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export interface EchoRequest {
  readonly backend: string;
  readonly pod: string;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  /** Lower-case names; repeated headers joined with "," (as the Go echo server reports them). */
  readonly headers: Readonly<Record<string, string>>;
  readonly bodyBytes: number;
}

export interface EchoBackend {
  readonly backend: string;
  readonly pod: string;
  readonly address: string;
  readonly port: number;
  /** Every request received, in arrival order (mirrored ones included). */
  readonly log: EchoRequest[];
  close(): Promise<void>;
}

/**
 * Query parameters understood (all optional):
 * - `delay=300ms`: wait before answering;
 * - `status=503`: answer with this status;
 * - `uuid=U&succeedAfter=N&responseCode=C&delayRetry=D`: the first N requests with this uuid fail, after D,
 *   with status C, or by resetting the connection when C is absent (the retry simulation of echo-basic);
 * - `reset=1`: reset the connection without answering;
 * - `bodyDelay=1s`: send the response headers at once and the body after the delay.
 * Request header `x-echo-set-header: Name:value,Other:value` makes it send those response headers.
 */
export async function startEcho(backend: string, pod: string, address = '127.0.0.1', port = 0): Promise<EchoBackend> {
  const log: EchoRequest[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://echo');
      const record: EchoRequest = {
        backend, pod, method: req.method ?? '', path: req.url ?? '', host: req.headers.host ?? '', headers: joined(req.rawHeaders), bodyBytes: bytes,
      };
      log.push(record);
      const q = url.searchParams;
      const uuid = q.get('uuid');
      let failWith: string | undefined;
      let delay = ms(q.get('delay'));
      if (uuid !== null) {
        const n = (attempts.get(uuid) ?? 0) + 1;
        attempts.set(uuid, n);
        if (n <= Number(q.get('succeedAfter') ?? '0')) {
          failWith = q.get('responseCode') ?? 'reset';
          delay = ms(q.get('delayRetry'));
        }
      }
      if (q.get('reset') === '1') failWith = 'reset';
      const status = failWith !== undefined && failWith !== 'reset' ? Number(failWith) : Number(q.get('status') ?? '200');
      const bodyDelay = ms(q.get('bodyDelay'));
      const answer = (): void => {
        if (failWith === 'reset') return void req.socket.resetAndDestroy();
        const text = JSON.stringify(record);
        res.writeHead(status, [
          'content-type', 'application/json', 'content-length', String(Buffer.byteLength(text)), 'x-backend', backend, 'x-pod', pod,
          ...echoedResponseHeaders(typeof req.headers['x-echo-set-header'] === 'string' ? req.headers['x-echo-set-header'] : undefined),
        ]);
        if (bodyDelay === 0) return void res.end(text);
        res.flushHeaders();
        setTimeout(() => res.end(text), bodyDelay);
      };
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  });
  server.on('upgrade', (req, socket, head) => websocketEcho(req, socket, head, backend, log, pod));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  return {
    backend,
    pod,
    address,
    port: (server.address() as AddressInfo).port,
    log,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function echoedResponseHeaders(spec: string | undefined): string[] {
  if (spec === undefined) return [];
  return spec.split(',').flatMap((pair) => {
    const i = pair.indexOf(':');
    return i <= 0 ? [] : [pair.slice(0, i).trim(), pair.slice(i + 1).trim()];
  });
}

function joined(raw: ReadonlyArray<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const prev = out[name];
    out[name] = prev === undefined ? (raw[i + 1] as string) : `${prev},${raw[i + 1] as string}`;
  }
  return out;
}

function ms(value: string | null): number {
  if (value === null) return 0;
  const m = /^(\d+)(ms|s)$/.exec(value);
  return m === null ? 0 : Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2). */
export function websocketAccept(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

/** Accepts a WebSocket upgrade and answers each text frame with `<pod>: <text>`. */
function websocketEcho(req: http.IncomingMessage, socket: Duplex, head: Buffer, backend: string, log: EchoRequest[], pod: string): void {
  log.push({ backend, pod, method: req.method ?? '', path: req.url ?? '', host: req.headers.host ?? '', headers: joined(req.rawHeaders), bodyBytes: 0 });
  const key = req.headers['sec-websocket-key'];
  if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    return;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${websocketAccept(key)}\r\nx-pod: ${pod}\r\n\r\n`);
  const frames = new FrameReader((opcode, payload) => {
    if (opcode === 0x8) return void socket.end(encodeFrame(0x8, Buffer.alloc(0), false));
    if (opcode === 0x1) socket.write(encodeFrame(0x1, Buffer.from(`${pod}: ${payload.toString('utf8')}`), false));
  });
  if (head.length > 0) frames.push(head);
  socket.on('data', (c: Buffer) => frames.push(c));
  socket.on('error', () => socket.destroy());
}

/** One frame, FIN set; clients must mask (RFC 6455 §5.3), servers must not. Payloads up to 64 KiB. */
export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  const header = len < 126 ? Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | len]) : Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | 126, len >> 8, len & 0xff]);
  if (!mask) return Buffer.concat([header, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ (key[i % 4] as number)));
  return Buffer.concat([header, key, masked]);
}

/** Reassembles frames from a byte stream (no fragmentation, payloads up to 64 KiB). */
export class FrameReader {
  #buf = Buffer.alloc(0);
  readonly #onFrame: (opcode: number, payload: Buffer) => void;

  constructor(onFrame: (opcode: number, payload: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return;
      const masked = ((b[1] as number) & 0x80) !== 0;
      let len = (b[1] as number) & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      }
      const total = off + (masked ? 4 : 0) + len;
      if (b.length < total) return;
      let payload = b.subarray(off + (masked ? 4 : 0), total);
      if (masked) {
        const key = b.subarray(off, off + 4);
        payload = Buffer.from(payload.map((x, i) => x ^ (key[i % 4] as number)));
      }
      this.#buf = b.subarray(total);
      this.#onFrame((b[0] as number) & 0x0f, payload);
    }
  }
}
