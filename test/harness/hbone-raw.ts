// A raw HTTP/2 peer over TLS for abuse tests: writes frames the way a hostile client would (ignoring the
// server's limits) and counts what comes back. HPACK: literal header fields without indexing, no Huffman.
import tls from 'node:tls';

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
const END_HEADERS = 0x4;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

function literal(name: string, value: string): Buffer {
  if (name.length > 126 || value.length > 126) throw new Error('short headers only');
  return Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
}

/** A HEADERS frame opening a CONNECT stream to `authority`. */
export function connectHeaders(streamId: number, authority: string): Buffer {
  return frame(FRAME.HEADERS, END_HEADERS, streamId, Buffer.concat([literal(':method', 'CONNECT'), literal(':authority', authority)]));
}

export function rstStream(streamId: number, code = 0x8 /* CANCEL */): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code, 0);
  return frame(FRAME.RST_STREAM, 0, streamId, p);
}

export interface RawPeer {
  readonly socket: tls.TLSSocket;
  /** Frames received, by type. */
  readonly received: Map<number, number>;
  /** RST_STREAM error codes received. */
  readonly resets: number[];
  readonly closed: Promise<void>;
  send(data: Buffer): boolean;
}

export async function rawPeer(host: string, port: number, options: tls.ConnectionOptions): Promise<RawPeer> {
  const socket = tls.connect({ host, port, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined, ...options });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', () => resolve()).once('error', reject));
  const received = new Map<number, number>();
  const resets: number[] = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      const type = buf[3] ?? -1;
      received.set(type, (received.get(type) ?? 0) + 1);
      if (type === FRAME.RST_STREAM) resets.push(buf.readUInt32BE(9));
      if (type === FRAME.SETTINGS && ((buf[4] ?? 0) & 1) === 0) socket.write(frame(FRAME.SETTINGS, 1, 0));
      buf = buf.subarray(9 + len);
    }
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
  return { socket, received, resets, closed, send: (d) => socket.write(d) };
}
