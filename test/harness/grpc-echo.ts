// Real gRPC peers for tests (@grpc/grpc-js): an Echo server per backend that reports what it saw
// (metadata, cancellations) and a client factory, both from test/harness/protos/echo.proto.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

export interface EchoRequest {
  message?: string;
  payload?: Buffer;
  count?: number;
  delayMs?: number;
  failCode?: number;
}

export interface EchoReply {
  message: string;
  payload: Buffer;
  backend: string;
  index: number;
  metadata: Record<string, string>;
}

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;

/** The generated client surface the tests use. */
export interface EchoClient extends grpc.Client {
  Unary(req: EchoRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<EchoReply>): grpc.ClientUnaryCall;
  ClientStream(md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback<EchoReply>): grpc.ClientWritableStream<EchoRequest>;
  ServerStream(req: EchoRequest, md: grpc.Metadata, opts: grpc.CallOptions): grpc.ClientReadableStream<EchoReply>;
  Bidi(md: grpc.Metadata, opts: grpc.CallOptions): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
}

const PROTO = fileURLToPath(new URL('../../../test/harness/protos/echo.proto', import.meta.url));
const definition = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, defaults: true });
const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  waypoint: { test: { Echo: grpc.ServiceClientConstructor; Other: grpc.ServiceClientConstructor } };
};
export const EchoService = pkg.waypoint.test.Echo;
export const OtherService = pkg.waypoint.test.Other;

/** Large messages are part of the tests: allow up to 16 MiB both ways. */
const MAX_MESSAGE = 16 * 1024 * 1024;

export function echoClient(address: string, port: number, options: grpc.ChannelOptions = {}): EchoClient {
  return new EchoService(`${address}:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_MESSAGE,
    'grpc.max_send_message_length': MAX_MESSAGE,
    ...options,
  }) as unknown as EchoClient;
}

export function otherClient(address: string, port: number): EchoClient {
  return new OtherService(`${address}:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
}

export interface GrpcBackend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Calls received, per method name. */
  readonly calls: Map<string, number>;
  /** Server-side calls that saw the client cancel. */
  cancelled: number;
  close(): Promise<void>;
}

function metadataObject(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) out[k] = Buffer.isBuffer(v) ? v.toString('base64') : v;
  return out;
}

function reply(name: string, req: EchoRequest, index: number, md: grpc.Metadata): EchoReply {
  return { message: req.message ?? '', payload: req.payload ?? Buffer.alloc(0), backend: name, index, metadata: metadataObject(md) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function trailers(name: string): grpc.Metadata {
  const t = new grpc.Metadata();
  t.set('x-trailer', `from-${name}`);
  return t;
}

/** Starts an Echo server (and Other, which answers with message "other") on `address:port` (0 = any). */
export async function startGrpcBackend(name: string, address = '127.0.0.1', port = 0): Promise<GrpcBackend> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
  const calls = new Map<string, number>();
  const count = (m: string): void => void calls.set(m, (calls.get(m) ?? 0) + 1);
  const backend: GrpcBackend = { name, address, port: 0, calls, cancelled: 0, close: async () => undefined };
  server.addService(EchoService.service, {
    Unary: async (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
      count('Unary');
      call.on('cancelled', () => backend.cancelled++);
      // Response headers go out after the delay, so a deadline can expire before the response starts.
      if ((call.request.delayMs ?? 0) > 0) await sleep(call.request.delayMs ?? 0);
      const initial = new grpc.Metadata();
      initial.set('x-initial', `from-${name}`);
      call.sendMetadata(initial);
      if ((call.request.failCode ?? 0) !== 0) return cb({ code: call.request.failCode ?? 2, details: `failed by ${name}`, metadata: trailers(name) });
      cb(null, reply(name, call.request, 0, call.metadata), trailers(name));
    },
    ClientStream: (call: grpc.ServerReadableStream<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
      count('ClientStream');
      let n = 0;
      let bytes = 0;
      call.on('cancelled', () => backend.cancelled++);
      call.on('data', (m: EchoRequest) => {
        n++;
        bytes += m.payload?.length ?? 0;
      });
      call.on('end', () => cb(null, { ...reply(name, { message: `received ${n} messages, ${bytes} bytes` }, n, call.metadata) }, trailers(name)));
    },
    ServerStream: async (call: grpc.ServerWritableStream<EchoRequest, EchoReply>) => {
      count('ServerStream');
      let cancelled = false;
      call.on('cancelled', () => {
        cancelled = true;
        backend.cancelled++;
      });
      for (let i = 0; i < (call.request.count ?? 0) && !cancelled; i++) {
        if ((call.request.delayMs ?? 0) > 0) await sleep(call.request.delayMs ?? 0);
        if (!call.write(reply(name, call.request, i, call.metadata))) await new Promise((r) => call.once('drain', r));
      }
      if (!cancelled) call.end(trailers(name));
    },
    Bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) => {
      count('Bidi');
      let i = 0;
      call.on('cancelled', () => backend.cancelled++);
      call.on('data', (m: EchoRequest) => call.write(reply(name, m, i++, call.metadata)));
      call.on('end', () => call.end(trailers(name)));
    },
  });
  server.addService(OtherService.service, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
      count('Other.Unary');
      cb(null, reply(name, { message: 'other' }, 0, call.metadata));
    },
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${address}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err)));
  });
  Object.assign(backend, {
    port: bound,
    close: () => new Promise<void>((resolve) => {
      server.forceShutdown();
      resolve();
    }),
  });
  return backend;
}

/** Promisified unary call; resolves with the reply, the initial metadata and the trailers. */
export function unary(client: EchoClient, req: EchoRequest, opts: { metadata?: Record<string, string>; deadlineMs?: number } = {}): Promise<{ reply: EchoReply; headers: Record<string, string>; trailers: Record<string, string> }> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
  const callOpts: grpc.CallOptions = opts.deadlineMs === undefined ? {} : { deadline: Date.now() + opts.deadlineMs };
  return new Promise((resolve, reject) => {
    let headers: Record<string, string> = {};
    let trailersSeen: Record<string, string> = {};
    const call = client.Unary(req, md, callOpts, (err, value) => {
      if (err !== null) return reject(err);
      // The status (with trailers) arrives after the callback's value only in order of events; wait for it.
      setImmediate(() => resolve({ reply: value as EchoReply, headers, trailers: trailersSeen }));
    });
    call.on('metadata', (m: grpc.Metadata) => (headers = metadataObject(m)));
    call.on('status', (s: grpc.StatusObject) => (trailersSeen = metadataObject(s.metadata)));
  });
}

/** The gRPC status code of a failed call (or 0). */
export function statusOf(err: unknown): { code: number; details: string } {
  const e = err as Partial<grpc.ServiceError>;
  return { code: e.code ?? 0, details: e.details ?? '' };
}
