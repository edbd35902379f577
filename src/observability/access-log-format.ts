// Access log formats: Envoy command operators (`%RESPONSE_CODE%`, `%REQ(USER-AGENT)%`, ...) compiled once
// into field readers; a request only runs the readers and joins the pieces. Istio's default text line and
// its JSON form are built from the same operators.
import type { HttpExchange } from '../proxy/http-exchange.js';

/** What the runtime measured for one finished request, next to the exchange itself. */
export interface LogEntry {
  readonly ex: HttpExchange;
  /** The status code sent downstream (200 for a gRPC Trailers-Only local reply; 0 when none). */
  readonly status: number;
  /** Wall-clock start, ms since the epoch. */
  readonly startTime: number;
  readonly durationMs: number;
  /** Body bytes, as Envoy's %BYTES_RECEIVED% / %BYTES_SENT%. */
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

type Value = string | number | undefined;
type Reader = (e: LogEntry) => Value;
interface Operator {
  readonly read: Reader;
  /** `%OP(...):N%` truncates the value to N characters. */
  readonly max: number | undefined;
}
type Piece = string | Operator;

export interface AccessLogFormat {
  readonly encoding: 'TEXT' | 'JSON';
  render(e: LogEntry): string;
}

/** Istio's default text format (MeshConfig `accessLogFormat` unset). */
export const ISTIO_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% ' +
  '%DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" ' +
  '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

/** Istio's default JSON labels (`accessLogEncoding: JSON`), in its order. */
export const ISTIO_JSON_LABELS: ReadonlyArray<readonly [string, string]> = [
  ['start_time', '%START_TIME%'],
  ['route_name', '%ROUTE_NAME%'],
  ['method', '%REQ(:METHOD)%'],
  ['path', '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%'],
  ['protocol', '%PROTOCOL%'],
  ['response_code', '%RESPONSE_CODE%'],
  ['response_flags', '%RESPONSE_FLAGS%'],
  ['response_code_details', '%RESPONSE_CODE_DETAILS%'],
  ['connection_termination_details', '%CONNECTION_TERMINATION_DETAILS%'],
  ['bytes_received', '%BYTES_RECEIVED%'],
  ['bytes_sent', '%BYTES_SENT%'],
  ['duration', '%DURATION%'],
  ['upstream_service_time', '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%'],
  ['x_forwarded_for', '%REQ(X-FORWARDED-FOR)%'],
  ['user_agent', '%REQ(USER-AGENT)%'],
  ['request_id', '%REQ(X-REQUEST-ID)%'],
  ['authority', '%REQ(:AUTHORITY)%'],
  ['upstream_host', '%UPSTREAM_HOST%'],
  ['upstream_cluster', '%UPSTREAM_CLUSTER%'],
  ['upstream_local_address', '%UPSTREAM_LOCAL_ADDRESS%'],
  ['downstream_local_address', '%DOWNSTREAM_LOCAL_ADDRESS%'],
  ['downstream_remote_address', '%DOWNSTREAM_REMOTE_ADDRESS%'],
  ['requested_server_name', '%REQUESTED_SERVER_NAME%'],
  ['upstream_transport_failure_reason', '%UPSTREAM_TRANSPORT_FAILURE_REASON%'],
];

export type FormatResult = { readonly ok: true; readonly format: AccessLogFormat } | { readonly ok: false; readonly message: string };

const none: Reader = () => undefined;

/** Operators without arguments. Values the waypoint never has (no TLS upstream, no SNI) read as missing. */
const SIMPLE: Readonly<Record<string, Reader>> = {
  PROTOCOL: (e) => `HTTP/${e.ex.req.httpVersion}`,
  RESPONSE_CODE: (e) => e.status,
  RESPONSE_FLAGS: (e) => e.ex.flag ?? '-',
  RESPONSE_CODE_DETAILS: (e) => e.ex.details,
  CONNECTION_TERMINATION_DETAILS: none,
  UPSTREAM_TRANSPORT_FAILURE_REASON: none,
  BYTES_RECEIVED: (e) => e.bytesReceived,
  BYTES_SENT: (e) => e.bytesSent,
  DURATION: (e) => Math.round(e.durationMs),
  UPSTREAM_HOST: (e) => e.ex.upstreamHost,
  UPSTREAM_CLUSTER: (e) => e.ex.clusterId,
  UPSTREAM_CLUSTER_RAW: (e) => e.ex.clusterId,
  UPSTREAM_LOCAL_ADDRESS: none,
  DOWNSTREAM_LOCAL_ADDRESS: (e) => e.ex.conn.listenerKey,
  DOWNSTREAM_REMOTE_ADDRESS: (e) => hostPort(e.ex.conn.remoteAddress, e.ex.conn.remotePort),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (e) => e.ex.conn.remoteAddress || undefined,
  DOWNSTREAM_PEER_URI_SAN: (e) => e.ex.conn.peerPrincipal,
  REQUESTED_SERVER_NAME: none,
  ROUTE_NAME: (e) => e.ex.routeName,
  METHOD: (e) => e.ex.method,
  TRACE_ID: (e) => e.ex.trace?.traceId,
};

const OPERATOR = /%([A-Z_]+)(?:\(([^)]*)\))?(?::(\d+))?%/y;

function hostPort(ip: string, port: number): string | undefined {
  if (ip === '') return undefined;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function compilePieces(text: string): Piece[] | string {
  const pieces: Piece[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '%') {
      literal += c;
      i++;
      continue;
    }
    if (text[i + 1] === '%') {
      literal += '%';
      i += 2;
      continue;
    }
    OPERATOR.lastIndex = i;
    const m = OPERATOR.exec(text);
    if (m === null) return `malformed command operator at offset ${i}: ${JSON.stringify(text.slice(i, i + 40))}`;
    const read = reader(m[1] as string, m[2]);
    if (typeof read === 'string') return read;
    if (literal !== '') pieces.push(literal);
    literal = '';
    pieces.push({ read, max: m[3] === undefined ? undefined : Number(m[3]) });
    i = OPERATOR.lastIndex;
  }
  if (literal !== '') pieces.push(literal);
  return pieces;
}

/**
 * ISO-8601 UTC with milliseconds. Date#toISOString is the most expensive field of a line, so the text up to
 * the second is kept and only the milliseconds are appended; the cache belongs to one compiled format.
 */
function startTimeReader(): Reader {
  let second = Number.NaN;
  let prefix = '';
  return (e) => {
    const ms = Math.floor(e.startTime);
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      prefix = new Date(s * 1000).toISOString().slice(0, 20); // "YYYY-MM-DDTHH:MM:SS."
    }
    const frac = ms - s * 1000;
    return `${prefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
  };
}

function reader(name: string, arg: string | undefined): Reader | string {
  if (name === 'START_TIME' && arg === undefined) return startTimeReader();
  if (name === 'REQ') {
    if (arg === undefined || arg === '') return '%REQ(...)% needs a header name';
    const [first, alt] = arg.split('?') as [string, string | undefined];
    const a = requestHeader(first);
    const b = alt === undefined ? undefined : requestHeader(alt);
    return b === undefined ? a : (e) => a(e) ?? b(e);
  }
  if (name === 'RESP') {
    if (arg?.toLowerCase() === 'x-envoy-upstream-service-time') return (e) => (e.ex.upstreamServiceTimeMs === undefined ? undefined : String(e.ex.upstreamServiceTimeMs));
    return `%RESP(${arg ?? ''})% is not supported: only %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% is`;
  }
  if (arg !== undefined) return `%${name}(${arg})% is not supported: ${name} takes no argument here`;
  const read = SIMPLE[name];
  return read ?? `unknown command operator %${name}%: supported are START_TIME, REQ, RESP(X-ENVOY-UPSTREAM-SERVICE-TIME), ${Object.keys(SIMPLE).join(', ')}`;
}

function requestHeader(name: string): Reader {
  const lower = name.trim().toLowerCase();
  switch (lower) {
    case ':method': return (e) => e.ex.method;
    case ':path': return (e) => e.ex.path;
    case ':authority': return (e) => e.ex.requestHeaders.get('host');
    case ':scheme': return () => 'http';
    default: return (e) => e.ex.requestHeaders.get(lower);
  }
}

function clip(v: Value, max: number | undefined): Value {
  return max !== undefined && typeof v === 'string' && v.length > max ? v.slice(0, max) : v;
}

/** Compiles an Envoy text format; the line gets a trailing newline if the format has none (as Istio adds). */
export function compileTextFormat(text: string): FormatResult {
  const pieces = compilePieces(text.endsWith('\n') ? text : `${text}\n`);
  if (typeof pieces === 'string') return { ok: false, message: pieces };
  return {
    ok: true,
    format: {
      encoding: 'TEXT',
      render(e) {
        let out = '';
        for (const p of pieces) {
          if (typeof p === 'string') out += p;
          else {
            const v = clip(p.read(e), p.max);
            out += v === undefined || v === '' ? '-' : v;
          }
        }
        return out;
      },
    },
  };
}

/** Compiles JSON labels: a lone operator keeps its type (numbers stay numbers, missing is null). */
export function compileJsonFormat(labels: ReadonlyArray<readonly [string, string]>): FormatResult {
  const fields: Array<{ readonly key: string; readonly pieces: Piece[] }> = [];
  for (const [key, text] of labels) {
    const pieces = compilePieces(text);
    if (typeof pieces === 'string') return { ok: false, message: `${key}: ${pieces}` };
    fields.push({ key: JSON.stringify(key), pieces });
  }
  return {
    ok: true,
    format: {
      encoding: 'JSON',
      render(e) {
        let out = '{';
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i] as (typeof fields)[number];
          out += `${i === 0 ? '' : ','}${f.key}:${jsonValue(f.pieces, e)}`;
        }
        return `${out}}\n`;
      },
    },
  };
}

function jsonValue(pieces: ReadonlyArray<Piece>, e: LogEntry): string {
  const only = pieces.length === 1 ? pieces[0] : undefined;
  if (only !== undefined && typeof only !== 'string') {
    const v = clip(only.read(e), only.max);
    return v === undefined || v === '' ? 'null' : typeof v === 'number' ? String(v) : jsonString(v);
  }
  let s = '';
  for (const p of pieces) {
    if (typeof p === 'string') s += p;
    else {
      const v = clip(p.read(e), p.max);
      s += v === undefined || v === '' ? '-' : v;
    }
  }
  return jsonString(s);
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

/** Most values need no escaping; only those that do pay for JSON.stringify. */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}
