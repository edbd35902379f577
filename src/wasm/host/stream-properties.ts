// Envoy attributes of one HTTP stream, as proxy_get_property paths (segments already split on NUL):
// request.*, response.*, source.*, destination.*, connection.*, upstream.*, xds.*.
import type { HttpExchange } from '../../proxy/http-exchange.js';
import type { PropertyValue } from './host-context.js';

/** Envoy's timestamps and durations are int64 nanoseconds in the Wasm encoding. */
function nanos(ms: number): bigint {
  return BigInt(Math.round(ms * 1e6));
}

function splitHostPort(key: string | undefined): [string, number] | undefined {
  if (key === undefined) return undefined;
  const i = key.lastIndexOf(':');
  return i === -1 ? undefined : [key.slice(0, i), Number(key.slice(i + 1))];
}

export function streamProperty(ex: HttpExchange, path: ReadonlyArray<string>, responseHeaders: ReadonlyArray<string> | undefined, startEpochMs: number): PropertyValue | undefined {
  const [group, field] = path;
  if (path.length > 2 && !(field === 'headers' && path.length === 3)) return undefined;
  switch (group) {
    case 'request': {
      const h = ex.requestHeaders;
      switch (field) {
        case 'path': return ex.path;
        case 'url_path': {
          const q = ex.path.indexOf('?');
          return q === -1 ? ex.path : ex.path.slice(0, q);
        }
        case 'query': {
          const q = ex.path.indexOf('?');
          return q === -1 ? '' : ex.path.slice(q + 1);
        }
        case 'host': return h.get('host');
        case 'scheme': return 'http';
        case 'method': return ex.method;
        case 'id': return h.get('x-request-id');
        case 'referer': return h.get('referer');
        case 'useragent': return h.get('user-agent');
        case 'protocol': return ex.req.httpVersionMajor === 2 ? 'HTTP/2' : `HTTP/1.${ex.req.httpVersionMinor}`;
        case 'time': return nanos(startEpochMs);
        case 'duration': return nanos(performance.now() - ex.startMs);
        case 'size': {
          const n = Number(h.get('content-length'));
          return Number.isInteger(n) ? n : undefined;
        }
        case 'headers': {
          if (path.length === 3) return h.getAll(path[2] as string).join(',') || undefined;
          const out: string[] = [];
          for (let i = 0; i < h.fields.length; i += 2) out.push((h.fields[i] as string).toLowerCase(), h.fields[i + 1] as string);
          return out;
        }
        default: return undefined;
      }
    }
    case 'response': {
      if (ex.status === 0) return undefined;
      switch (field) {
        case 'code': return ex.status;
        case 'code_details': return ex.details;
        case 'flags': return ex.flag === undefined ? 0 : 1;
        case 'grpc_status': return ex.grpcStatus;
        case 'size': return ex.responseBodyBytes;
        case 'headers': {
          if (responseHeaders === undefined) return undefined;
          if (path.length === 3) {
            const name = path[2] as string;
            const values: string[] = [];
            for (let i = 0; i < responseHeaders.length; i += 2) if (responseHeaders[i] === name) values.push(responseHeaders[i + 1] as string);
            return values.length === 0 ? undefined : values.join(',');
          }
          return responseHeaders;
        }
        default: return undefined;
      }
    }
    case 'source': {
      const c = ex.conn;
      if (field === 'address') return `${c.remoteAddress}:${c.remotePort}`;
      if (field === 'port') return c.remotePort;
      if (field === 'principal') return c.peerPrincipal;
      return undefined;
    }
    case 'destination': {
      const hp = splitHostPort(ex.listener.key);
      if (field === 'address') return ex.listener.key;
      if (field === 'port') return hp?.[1];
      return undefined;
    }
    case 'upstream': {
      const hp = splitHostPort(ex.upstreamHost);
      if (field === 'address') return ex.upstreamHost;
      if (field === 'port') return hp?.[1];
      return undefined;
    }
    case 'connection': {
      const c = ex.conn;
      if (field === 'mtls') return c.peerPrincipal !== undefined;
      if (field === 'uri_san_peer_certificate') return c.peerPrincipal;
      if (field === 'requested_server_name') return '';
      return undefined;
    }
    case 'xds': {
      if (field === 'cluster_name') return ex.clusterId;
      if (field === 'route_name') return ex.routeName;
      return undefined;
    }
    default:
      return undefined;
  }
}
