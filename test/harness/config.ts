// Builds the YAML a test mesh needs (namespace, waypoint Gateway, Services with VIPs, EndpointSlices),
// so e2e tests state only what they are about.
import { randomInt } from 'node:crypto';

export interface ServiceDef {
  readonly name: string;
  readonly namespace?: string;
  readonly vip: string;
  readonly port?: number;
  readonly portName?: string;
  readonly appProtocol?: string;
  /** `address:port` of each ready endpoint. */
  readonly endpoints: ReadonlyArray<string>;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A /16 of loopback addresses of its own per call, so parallel test files do not collide. */
export function vipRange(): (n: number) => string {
  const a = randomInt(20, 250);
  const b = randomInt(0, 250);
  return (n) => `127.${a}.${b}.${n}`;
}

export function meshPreamble(namespace = 'default'): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${namespace}
  labels:
    istio.io/use-waypoint: waypoint
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: ${namespace}
spec:
  gatewayClassName: istio-waypoint
  listeners:
    - name: mesh
      port: 15008
      protocol: HBONE
`;
}

export function serviceYaml(s: ServiceDef): string {
  const ns = s.namespace ?? 'default';
  const port = s.port ?? 80;
  const portName = s.portName ?? 'http';
  const labels = Object.entries(s.labels ?? {}).map(([k, v]) => `\n    ${k}: "${v}"`).join('');
  const endpoints = s.endpoints.map((e) => {
    const [address] = e.split(':');
    return `  - addresses: ["${address}"]`;
  });
  const targetPort = s.endpoints[0]?.split(':')[1] ?? '8080';
  const slice = s.endpoints.length === 0 ? '' : `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${s.name}-slice
  namespace: ${ns}
  labels:
    kubernetes.io/service-name: ${s.name}
addressType: IPv4
ports:
  - name: ${portName}
    port: ${targetPort}
endpoints:
${endpoints.join('\n')}
`;
  return `---
apiVersion: v1
kind: Service
metadata:
  name: ${s.name}
  namespace: ${ns}${labels === '' ? '' : `\n  labels:${labels}`}
spec:
  clusterIP: ${s.vip}
  ports:
    - name: ${portName}
      port: ${port}
      targetPort: ${targetPort}${s.appProtocol === undefined ? '' : `\n      appProtocol: ${s.appProtocol}`}
${slice}`;
}
