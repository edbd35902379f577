// Port protocol selection as Istio does it: `appProtocol` first, else the port name's prefix (`http-web`).
import type { PortProtocol } from '../snapshot.js';

const BY_NAME: Readonly<Record<string, PortProtocol>> = {
  http: 'http',
  'http-web': 'http',
  http2: 'http2',
  h2c: 'http2',
  'kubernetes.io/h2c': 'http2',
  grpc: 'grpc',
  'grpc-web': 'http',
  https: 'tls',
  tls: 'tls',
  tcp: 'tcp',
  mongo: 'tcp',
  redis: 'tcp',
  mysql: 'tcp',
  'kubernetes.io/ws': 'http',
  'kubernetes.io/wss': 'tls',
};

export function portProtocol(appProtocol: string | undefined, portName: string | undefined): PortProtocol {
  if (appProtocol !== undefined) {
    const declared = BY_NAME[appProtocol.toLowerCase()];
    if (declared !== undefined) return declared;
  }
  if (portName !== undefined) {
    const lower = portName.toLowerCase();
    const exact = BY_NAME[lower];
    if (exact !== undefined) return exact;
    const dash = lower.indexOf('-');
    if (dash > 0) {
      const prefixed = BY_NAME[lower.slice(0, dash)];
      if (prefixed !== undefined) return prefixed;
    }
  }
  return 'unknown';
}

/** The protocol segment of Istio's inbound-vip cluster name. */
export function clusterProtocolSegment(protocol: PortProtocol): 'http' | 'tcp' {
  return protocol === 'tcp' || protocol === 'tls' ? 'tcp' : 'http';
}
