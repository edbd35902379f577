// The waypoint as a bench target: the two configurations issue #13 names (a bare route; the full pipeline with
// header matches, one AuthorizationPolicy, Istio metrics on and access log off), and the child process that
// serves them, ready once /healthz/ready answers.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort, track } from './processes.js';

export const SERVICE_PORT = 8080;
export const REQUEST_PATH = '/bench/echo';
/** Headers every request of every target carries (the full pipeline's route and policy match on them). */
export const REQUEST_HEADERS: Readonly<Record<string, string>> = { 'x-bench-route': 'waypoint', 'x-tenant': 'bench' };

export type WaypointProfile = 'bare' | 'full';

const NS = 'bench';
const backendRef = { name: 'bench', port: SERVICE_PORT };

function routeRules(profile: WaypointProfile): object[] {
  if (profile === 'bare') return [{ backendRefs: [backendRef] }];
  // Three rules with header matches; the bench request matches the first in precedence order only after
  // its path and both headers are compared, so every request pays for real matching.
  return [
    { matches: [{ path: { type: 'PathPrefix', value: '/bench' }, headers: [{ name: 'x-bench-route', value: 'canary' }] }], backendRefs: [backendRef] },
    {
      matches: [{ path: { type: 'PathPrefix', value: '/bench' }, headers: [{ name: 'x-bench-route', value: 'waypoint' }, { name: 'x-tenant', value: 'bench' }] }],
      backendRefs: [backendRef],
    },
    { matches: [{ path: { type: 'PathPrefix', value: '/other' }, method: 'POST' }], backendRefs: [backendRef] },
  ];
}

export function writeWaypointConfig(dir: string, profile: WaypointProfile, vip: string, backendPort: number): void {
  mkdirSync(dir, { recursive: true });
  const docs: object[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'istio.io/use-waypoint': 'waypoint' } } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway',
      metadata: { name: 'waypoint', namespace: NS, labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    },
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'bench', namespace: NS },
      spec: { clusterIP: vip, ports: [{ name: 'http', port: SERVICE_PORT, targetPort: backendPort }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'bench-1', namespace: NS, labels: { 'kubernetes.io/service-name': 'bench' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: backendPort }],
      endpoints: [{ addresses: ['127.0.0.1'], targetRef: { kind: 'Pod', name: 'bench-backend-0' } }],
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'bench', namespace: NS },
      spec: { parentRefs: [{ group: '', kind: 'Service', name: 'bench', port: SERVICE_PORT }], rules: routeRules(profile) },
    },
  ];
  if (profile === 'bare') {
    docs.push({ apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'metrics-off', namespace: NS }, spec: { metrics: [{ overrides: [{ disabled: true }] }] } });
  } else {
    docs.push({
      apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'bench-allow', namespace: NS },
      spec: {
        targetRefs: [{ kind: 'Service', group: '', name: 'bench' }],
        action: 'ALLOW',
        rules: [{
          from: [{ source: { ipBlocks: ['127.0.0.0/8'] } }],
          to: [{ operation: { methods: ['GET', 'HEAD'], paths: ['/bench/*'] } }],
          when: [{ key: 'request.headers[x-tenant]', values: ['bench'] }],
        }],
      },
    });
  }
  writeFileSync(path.join(dir, 'bench.yaml'), docs.map((d) => stringify(d)).join('---\n'));
}

export interface WaypointProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly adminPort: number;
  readonly metricsPort: number;
  readonly stderrTail: () => string;
}

/** Starts `waypoint run` on `configDir`; `workers` adds `--workers N` (undefined: the flag is not passed). */
export async function startWaypoint(configDir: string, workers: number | undefined): Promise<WaypointProcess> {
  const [admin, metrics, hbone] = [await freePort(), await freePort(), await freePort()];
  const main = fileURLToPath(new URL('../../src/main.js', import.meta.url));
  const args = [main, 'run', '--config', configDir, '--admin-address', `127.0.0.1:${admin}`, '--metrics-address', `127.0.0.1:${metrics}`,
    '--hbone-address', `127.0.0.1:${hbone}`, '--drain-timeout', '1s', '--log-level', 'warn', ...(workers === undefined ? [] : ['--workers', String(workers)])];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(`[waypoint] ${chunk.toString()}`);
    tail = (tail + chunk.toString()).slice(-4_000);
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`waypoint exited during startup (code ${child.exitCode}):\n${tail}`);
    const status = await fetch(`http://127.0.0.1:${admin}/healthz/ready`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status, () => 0);
    if (status === 200 && child.pid !== undefined) return { child, pid: child.pid, adminPort: admin, metricsPort: metrics, stderrTail: () => tail };
    await sleep(100);
  }
  throw new Error(`waypoint not ready within 20 s:\n${tail}`);
}
