// Kubernetes objects for tests (as a user would `kubectl apply` them) and a waypoint started in-process
// in Kubernetes mode against a FakeApiServer, with timings shortened so failures recover quickly.
import { startWaypoint } from '../../src/cli/run-command.js';
import type { KubernetesWaypoint } from '../../src/cli/kubernetes-mode.js';
import type { KubernetesTiming } from '../../src/cli/kubernetes-options.js';
import { createLogger, type Logger, silentLogger } from '../../src/observability/logger.js';
import type { FakeApiServer } from './fake-apiserver.js';
import type { Obj } from './fake-apiserver-store.js';

export const FAST_TIMING: KubernetesTiming = {
  reloadDebounceMs: 30,
  minWatchSeconds: 60,
  watchConnectTimeoutMs: 5000,
  watchIdleGraceMs: 10_000,
  backoffMs: 50,
  absentRetryMs: 500,
  requestTimeoutMs: 5000,
  leaseDurationMs: 2000,
  renewDeadlineMs: 1500,
  retryPeriodMs: 150,
  statusDebounceMs: 30,
};

export interface KubeWaypointOptions {
  readonly token?: string;
  readonly writeStatus?: boolean;
  readonly waypoint?: string;
  readonly timing?: Partial<KubernetesTiming>;
  /** Log lines go here (default: dropped); set WAYPOINT_TEST_LOG=1 to print them. */
  readonly log?: Logger;
}

export async function startKubeWaypoint(api: FakeApiServer, options: KubeWaypointOptions = {}): Promise<KubernetesWaypoint> {
  const log = options.log ?? (process.env['WAYPOINT_TEST_LOG'] === '1' ? createLogger('text', (l) => process.stderr.write(l), 'debug') : silentLogger);
  const running = await startWaypoint({
    config: [],
    waypoint: options.waypoint,
    clusterDomain: 'cluster.local',
    meshConfigFile: undefined,
    adminAddress: { host: '127.0.0.1', port: 0 },
    metricsAddress: undefined,
    hboneAddress: undefined,
    drainTimeoutMs: 1000,
    connectTimeoutMs: 2000,
    watch: true,
    log,
    kubernetes: {
      kubeconfig: await api.kubeconfig(options.token ?? 'test-token'),
      writeStatus: options.writeStatus ?? true,
      leaderElectionNamespace: 'waypoint-system',
      healthAddress: undefined,
      timing: { ...FAST_TIMING, ...options.timing },
    },
  });
  return running as KubernetesWaypoint;
}

export function namespace(name: string, labels: Readonly<Record<string, string>> = { 'istio.io/use-waypoint': 'waypoint' }): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...labels } } };
}

export function gateway(name = 'waypoint', ns = 'default', gatewayClassName = 'waypoint'): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: ns, labels: { 'istio.io/waypoint-for': 'service' } },
    spec: { gatewayClassName, listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
  };
}

export function gatewayClass(name = 'waypoint', controllerName = 'waypoint.dev/gateway-controller'): Obj {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name }, spec: { controllerName } };
}

export function service(name: string, vip: string, options: { ns?: string; port?: number; labels?: Record<string, string> } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: options.ns ?? 'default', ...(options.labels === undefined ? {} : { labels: options.labels }) },
    spec: { type: 'ClusterIP', clusterIP: vip, clusterIPs: [vip], ports: [{ name: 'http', port: options.port ?? 80, protocol: 'TCP', targetPort: 8080 }], sessionAffinity: 'None' },
  };
}

/** An EndpointSlice for `service` with ready endpoints at `address:port`. */
export function endpointSlice(serviceName: string, endpoints: ReadonlyArray<string>, ns = 'default'): Obj {
  const port = Number(endpoints[0]?.split(':')[1] ?? 8080);
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-abc12`, namespace: ns, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.split(':')[0] ?? ''], conditions: { ready: true, serving: true, terminating: false } })),
  };
}

export function httpRoute(name: string, parent: string, backend: string, options: { ns?: string; backendPort?: number; path?: string; parentKind?: 'Service' | 'Gateway' } = {}): Obj {
  const kind = options.parentKind ?? 'Service';
  const parentRef = kind === 'Service' ? { group: '', kind: 'Service', name: parent, port: 80 } : { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: parent };
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: options.ns ?? 'default' },
    spec: {
      parentRefs: [parentRef],
      rules: [{
        matches: [{ path: { type: 'PathPrefix', value: options.path ?? '/' } }],
        backendRefs: [{ group: '', kind: 'Service', name: backend, port: options.backendPort ?? 80, weight: 1 }],
      }],
    },
  };
}

/** Polls until `check` passes (or throws its last error after `timeoutMs`; generous on purpose). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 40));
    }
  }
}
