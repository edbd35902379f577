// Envoy's gRPC ext_authz client: `envoy.service.auth.v3.Authorization/Check` over HTTP/2 with the real
// field numbers (attribute_context.proto, external_auth.proto). Status OK allows with the ok_response
// header edits; any other status denies with the denied_response; a transport or gRPC error is an error.
import http2 from 'node:http2';
import type { EndpointConfig } from '../../config/snapshot.js';
import type { GrpcProvider } from './ext-authz-provider.js';
import type { ExtAuthzResult, HeaderEdit } from './ext-authz-result.js';
import { fieldInt, fieldMessage, fieldMessages, fieldString, fieldStrings, type ProtoFields, ProtoWriter, readMessage } from './protobuf.js';

export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

/** What the CheckRequest describes: the peer, the destination, and for HTTP the request itself. */
export interface CheckAttributes {
  readonly source: { readonly address: string; readonly port: number; readonly principal: string | undefined };
  readonly destination: { readonly address: string; readonly port: number };
  readonly http: {
    readonly id: string;
    readonly method: string;
    /** Lower-case names; repeated headers joined with ",". Includes `:authority`, `:method`, `:path`, `:scheme`. */
    readonly headers: ReadonlyArray<readonly [string, string]>;
    readonly path: string;
    readonly host: string;
    readonly size: number;
    readonly protocol: string;
  } | undefined;
}

/** CheckRequest { attributes(1): AttributeContext { source(1), destination(2), request(4) } }. */
export function encodeCheckRequest(a: CheckAttributes, nowMs: number): Buffer {
  const peer = (w: ProtoWriter, address: string, port: number, principal: string | undefined): void => {
    // Peer { address(1): Address { socket_address(1): SocketAddress { address(2), port_value(3) } }, principal(4) }
    w.message(1, (addr) => addr.message(1, (sa) => sa.string(2, address).int(3, port))).string(4, principal);
  };
  return new ProtoWriter()
    .message(1, (ctx) => {
      ctx.message(1, (w) => peer(w, a.source.address, a.source.port, a.source.principal));
      ctx.message(2, (w) => peer(w, a.destination.address, a.destination.port, undefined));
      ctx.message(4, (req) => {
        // Request { time(1): Timestamp { seconds(1), nanos(2) }, http(2): HttpRequest }
        req.message(1, (t) => t.int(1, Math.floor(nowMs / 1000)).int(2, (nowMs % 1000) * 1_000_000));
        const h = a.http;
        if (h === undefined) return;
        // HttpRequest { id(1), method(2), headers(3) map, path(4), host(5), scheme(6), size(9), protocol(10) }
        req.message(2, (hr) => hr.string(1, h.id).string(2, h.method).map(3, h.headers).string(4, h.path).string(5, h.host).string(6, 'http').int(9, h.size).string(10, h.protocol));
      });
    })
    .finish();
}

/** CheckResponse { status(1): google.rpc.Status, denied_response(2), ok_response(3) }. */
export function decodeCheckResponse(msg: ProtoFields): ExtAuthzResult {
  const code = fieldInt(fieldMessage(msg, 1) ?? new Map(), 1) ?? 0;
  if (code === 0) {
    const ok = fieldMessage(msg, 3) ?? new Map();
    return {
      kind: 'ok',
      upstream: fieldMessages(ok, 2).map(headerOption),
      removeUpstream: fieldStrings(ok, 5).map((h) => h.toLowerCase()),
      downstream: fieldMessages(ok, 6).map(headerOption),
    };
  }
  const denied = fieldMessage(msg, 2) ?? new Map();
  // DeniedHttpResponse { status(1): HttpStatus { code(1) }, headers(2), body(3) }; an unset code is 403.
  const status = fieldInt(fieldMessage(denied, 1) ?? new Map(), 1) ?? 0;
  const headers: string[] = [];
  for (const h of fieldMessages(denied, 2).map(headerOption)) headers.push(h.name, h.value);
  return { kind: 'denied', status: status === 0 ? 403 : status, headers, body: fieldString(denied, 3) ?? '' };
}

/** HeaderValueOption { header(1): HeaderValue { key(1), value(2), raw_value(3) }, append(2): BoolValue, append_action(3) }. */
function headerOption(o: ProtoFields): HeaderEdit {
  const hv = fieldMessage(o, 1) ?? new Map();
  const name = (fieldString(hv, 1) ?? '').toLowerCase();
  const value = fieldString(hv, 2) ?? fieldString(hv, 3) ?? '';
  const append = fieldMessage(o, 2);
  // "the append field in HeaderValueOption defaults to false when used in this message".
  if (append !== undefined) return { name, value, op: (fieldInt(append, 1) ?? 0) !== 0 ? 'append' : 'set' };
  const action = fieldInt(o, 3);
  const op: HeaderEdit['op'] = action === 0 ? 'append' : action === 1 ? 'add-if-absent' : action === 3 ? 'overwrite-if-exists' : 'set';
  return { name, value, op: action === undefined ? 'set' : op };
}

const sessions = new Map<string, http2.ClientHttp2Session>();

function sessionFor(endpoint: EndpointConfig): http2.ClientHttp2Session {
  const key = `${endpoint.address}:${endpoint.port}`;
  const existing = sessions.get(key);
  if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
  const host = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
  const s = http2.connect(`http://${host}:${endpoint.port}`);
  s.unref();
  s.on('error', () => sessions.delete(key));
  s.on('close', () => sessions.delete(key));
  s.on('goaway', () => sessions.delete(key));
  sessions.set(key, s);
  return s;
}

export function checkGrpc(p: GrpcProvider, endpoint: EndpointConfig, request: Buffer): Promise<ExtAuthzResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ExtAuthzResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      stream?.close(http2.constants.NGHTTP2_CANCEL);
      done({ kind: 'error', reason: 'timeout' });
    }, p.timeoutMs);
    let stream: http2.ClientHttp2Stream | undefined;
    try {
      stream = sessionFor(endpoint).request({
        ':method': 'POST',
        ':path': CHECK_PATH,
        ':authority': p.authority,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${p.timeoutMs}m`,
      });
    } catch (err) {
      done({ kind: 'error', reason: err instanceof Error ? err.message : String(err) });
      return;
    }
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
      const status = headers[':status'];
      if (status !== 200) done({ kind: 'error', reason: `authorization server answered HTTP ${String(status)}` });
    });
    stream.on('trailers', (trailers) => {
      grpcStatus = String(trailers['grpc-status'] ?? grpcStatus ?? '');
      grpcMessage = String(trailers['grpc-message'] ?? '');
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', (err) => done({ kind: 'error', reason: err.message }));
    stream.on('close', () => {
      if (grpcStatus !== '0') return done({ kind: 'error', reason: `gRPC status ${grpcStatus ?? 'missing'}${grpcMessage === '' ? '' : `: ${decodeURIComponent(grpcMessage)}`}` });
      const body = Buffer.concat(chunks);
      if (body.length < 5 || body[0] !== 0) return done({ kind: 'error', reason: 'malformed gRPC response' });
      const len = body.readUInt32BE(1);
      try {
        done(decodeCheckResponse(readMessage(body.subarray(5, 5 + len))));
      } catch (err) {
        done({ kind: 'error', reason: err instanceof Error ? err.message : String(err) });
      }
    });
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt32BE(request.length, 1);
    request.copy(frame, 5);
    stream.end(frame);
  });
}
