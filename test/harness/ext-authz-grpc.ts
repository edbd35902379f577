// A real gRPC ext-authz server for tests, built with @grpc/grpc-js from a subset of Envoy's protos
// (test/harness/protos, real field numbers): `x-ext-authz: allow` → OK with header edits, anything else
// → PERMISSION_DENIED with a 401 denied_response. TCP checks (no HTTP request) are allowed only for the
// principal listed in `allowedTcpPrincipal`. Every CheckRequest is recorded as decoded.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface GrpcCheck {
  readonly source: { address: string; port: number; principal: string };
  readonly destination: { address: string; port: number };
  readonly http: { method: string; path: string; host: string; headers: Record<string, string>; id: string; protocol: string } | undefined;
}

export interface GrpcExtAuthz {
  readonly port: number;
  readonly checks: GrpcCheck[];
  allowedTcpPrincipal: string;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
// Compiled to dist/test/harness; the .proto files stay in the source tree.
const PROTOS = path.resolve(here, '../../../test/harness/protos');

interface RawCheck {
  attributes?: {
    source?: { address?: { socketAddress?: { address?: string; portValue?: number } }; principal?: string };
    destination?: { address?: { socketAddress?: { address?: string; portValue?: number } } };
    request?: { http?: { method?: string; path?: string; host?: string; headers?: Record<string, string>; id?: string; protocol?: string } };
  };
}

export async function startGrpcExtAuthz(address = '127.0.0.1'): Promise<GrpcExtAuthz> {
  const def = protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', { includeDirs: [PROTOS], keepCase: false, longs: Number, defaults: false });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { envoy: { service: { auth: { v3: { Authorization: grpc.ServiceClientConstructor } } } } };
  const checks: GrpcCheck[] = [];
  const state = { allowedTcpPrincipal: '' };
  const server = new grpc.Server();
  server.addService(pkg.envoy.service.auth.v3.Authorization.service, {
    Check: (call: grpc.ServerUnaryCall<RawCheck, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const a = call.request.attributes ?? {};
      const h = a.request?.http;
      const check: GrpcCheck = {
        source: { address: a.source?.address?.socketAddress?.address ?? '', port: a.source?.address?.socketAddress?.portValue ?? 0, principal: a.source?.principal ?? '' },
        destination: { address: a.destination?.address?.socketAddress?.address ?? '', port: a.destination?.address?.socketAddress?.portValue ?? 0 },
        http: h === undefined ? undefined : { method: h.method ?? '', path: h.path ?? '', host: h.host ?? '', headers: h.headers ?? {}, id: h.id ?? '', protocol: h.protocol ?? '' },
      };
      checks.push(check);
      const allow = check.http === undefined ? check.source.principal === state.allowedTcpPrincipal : check.http.headers['x-ext-authz'] === 'allow';
      if (allow) {
        callback(null, {
          status: { code: 0 },
          okResponse: {
            headers: [{ header: { key: 'x-ext-authz-upstream', value: 'from-grpc-authz' } }, { header: { key: 'x-appended', value: 'two' }, append: { value: true } }],
            headersToRemove: ['x-remove-me'],
            responseHeadersToAdd: [{ header: { key: 'x-ext-authz-downstream', value: 'grpc-hello' } }],
          },
        });
        return;
      }
      callback(null, {
        status: { code: 7, message: 'denied' },
        deniedResponse: { status: { code: 401 }, headers: [{ header: { key: 'x-ext-authz-check-result', value: 'denied-grpc' } }], body: 'denied by grpc ext_authz' },
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${address}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err))));
  return {
    port,
    checks,
    get allowedTcpPrincipal() {
      return state.allowedTcpPrincipal;
    },
    set allowedTcpPrincipal(v: string) {
      state.allowedTcpPrincipal = v;
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
