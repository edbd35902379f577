// An OTLP/HTTP trace receiver for tests: accepts `POST /v1/traces` in protobuf (what the OpenTelemetry
// exporters and Envoy send) or JSON, decodes ExportTraceServiceRequest with a small protobuf reader, and
// keeps every span with its resource attributes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly startNanos: bigint;
  readonly endNanos: bigint;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly resource: Readonly<Record<string, string | number | boolean>>;
}

export interface OtlpReceiver {
  readonly port: number;
  readonly spans: ReceivedSpan[];
  /** Requests received and their content types. */
  readonly requests: string[];
  waitForSpans(predicate: (spans: ReadonlyArray<ReceivedSpan>) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const type = req.headers['content-type'] ?? '';
      requests.push(`${req.method ?? ''} ${req.url ?? ''} ${type}`);
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = Buffer.concat(chunks);
        spans.push(...(type.startsWith('application/json') ? decodeJson(body) : decodeExportRequest(body)));
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
        return;
      }
      res.writeHead(200, { 'content-type': type.startsWith('application/json') ? 'application/json' : 'application/x-protobuf' });
      res.end(type.startsWith('application/json') ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    spans,
    requests,
    async waitForSpans(predicate, timeoutMs = 10_000) {
      const start = Date.now();
      while (!predicate(spans)) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for spans; have ${spans.length}: ${JSON.stringify(spans.map((s) => [s.name, s.traceId, s.spanId, s.parentSpanId]))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

// ---- protobuf wire format (https://protobuf.dev/programming-guides/encoding/) ----

interface Field {
  readonly no: number;
  readonly wire: number;
  readonly varint: bigint;
  readonly bytes: Buffer;
}

function* fields(buf: Buffer): Generator<Field> {
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, varint: varint(), bytes: Buffer.alloc(0) };
    else if (wire === 1) {
      yield { no, wire, varint: buf.readBigUInt64LE(i), bytes: buf.subarray(i, i + 8) };
      i += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, varint: 0n, bytes: buf.subarray(i, i + len) };
      i += len;
    } else if (wire === 5) {
      yield { no, wire, varint: BigInt(buf.readUInt32LE(i)), bytes: buf.subarray(i, i + 4) };
      i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

function decodeExportRequest(buf: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of fields(buf)) {
    if (rs.no !== 1) continue;
    let resource: Record<string, string | number | boolean> = {};
    const scopeSpans: Buffer[] = [];
    for (const f of fields(rs.bytes)) {
      if (f.no === 1) resource = attributesOf(f.bytes, 1);
      else if (f.no === 2) scopeSpans.push(f.bytes);
    }
    for (const ss of scopeSpans) for (const f of fields(ss)) if (f.no === 2) out.push(decodeSpan(f.bytes, resource));
  }
  return out;
}

function decodeSpan(buf: Buffer, resource: Record<string, string | number | boolean>): ReceivedSpan {
  const s = { traceId: '', spanId: '', parentSpanId: '', traceState: '', name: '', kind: 0, startNanos: 0n, endNanos: 0n, statusCode: 0 };
  const attributes: Record<string, string | number | boolean> = {};
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1: s.traceId = f.bytes.toString('hex'); break;
      case 2: s.spanId = f.bytes.toString('hex'); break;
      case 3: s.traceState = f.bytes.toString('utf8'); break;
      case 4: s.parentSpanId = f.bytes.toString('hex'); break;
      case 5: s.name = f.bytes.toString('utf8'); break;
      case 6: s.kind = Number(f.varint); break;
      case 7: s.startNanos = f.varint; break;
      case 8: s.endNanos = f.varint; break;
      case 9: Object.assign(attributes, attributesOf(f.bytes, undefined)); break;
      case 15: for (const g of fields(f.bytes)) if (g.no === 3) s.statusCode = Number(g.varint); break;
      default: break;
    }
  }
  return { ...s, attributes, resource };
}

/** KeyValue list: either the message itself is one KeyValue (`field` undefined) or a message whose field `field` repeats them. */
function attributesOf(buf: Buffer, field: number | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const keyValue = (kv: Buffer): void => {
    let key = '';
    let value: string | number | boolean = '';
    for (const f of fields(kv)) {
      if (f.no === 1) key = f.bytes.toString('utf8');
      else if (f.no === 2) {
        for (const v of fields(f.bytes)) {
          if (v.no === 1) value = v.bytes.toString('utf8');
          else if (v.no === 2) value = v.varint !== 0n;
          else if (v.no === 3) value = Number(v.varint);
          else if (v.no === 4) value = v.bytes.readDoubleLE(0);
        }
      }
    }
    out[key] = value;
  };
  if (field === undefined) keyValue(buf);
  else for (const f of fields(buf)) if (f.no === field) keyValue(f.bytes);
  return out;
}

interface JsonAnyValue { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number }
interface JsonKeyValue { key: string; value: JsonAnyValue }

function decodeJson(body: Buffer): ReceivedSpan[] {
  const doc = JSON.parse(body.toString('utf8')) as { resourceSpans?: Array<{ resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }> };
  const attrs = (list: JsonKeyValue[] | undefined): Record<string, string | number | boolean> =>
    Object.fromEntries((list ?? []).map((kv) => [kv.key, kv.value.stringValue ?? kv.value.boolValue ?? Number(kv.value.intValue ?? kv.value.doubleValue ?? 0)]));
  const out: ReceivedSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: String(s['traceId'] ?? ''), spanId: String(s['spanId'] ?? ''), parentSpanId: String(s['parentSpanId'] ?? ''), traceState: String(s['traceState'] ?? ''),
          name: String(s['name'] ?? ''), kind: Number(s['kind'] ?? 0), startNanos: BigInt(String(s['startTimeUnixNano'] ?? '0')), endNanos: BigInt(String(s['endTimeUnixNano'] ?? '0')),
          attributes: attrs(s['attributes'] as JsonKeyValue[] | undefined), statusCode: Number((s['status'] as { code?: number } | undefined)?.code ?? 0), resource,
        });
      }
    }
  }
  return out;
}
