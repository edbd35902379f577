// Scale curves for HTTPRoute rules (issue #13 item 2): compile time, retained memory and per-request match cost
// with 10, 1,000 and 10,000 rules, laid out two ways: on *other* Services (the target Service keeps its own 10
// rules; matching must not slow down) and all on the *same* Service (first match in precedence order: the
// request matches the very last rule, the worst case). Routes carry 10 rules each (the Gateway API CRD allows 16).
// Run: npm run build && node --expose-gc dist/bench/route-scale.js [--json] [--quick: 10 and 1,000 only]
import { performance } from 'node:perf_hooks';
import { compile } from '../src/config/compile/index.js';
import type { Snapshot } from '../src/config/snapshot.js';
import { parseConfigText } from '../src/config/source/yaml-documents.js';
import { selectRoute } from '../src/proxy/http-router.js';
import { RequestView } from '../src/router/request-view.js';

export type Layout = 'other-services' | 'same-service';
const RULES_PER_ROUTE = 10;
const TARGET_VIP = '127.91.0.1';

export interface ScalePoint {
  readonly layout: Layout;
  readonly rules: number;
  /** YAML parse of the whole config (parseConfigText: values, with lines found on demand), CPU ms. */
  readonly parseMs: number;
  /** Validation + compile into a snapshot, CPU ms. */
  readonly compileMs: number;
  /** Heap held by the compiled snapshot (after GC), MiB; NaN without --expose-gc. */
  readonly snapshotMiB: number;
  /** Listener lookup + RequestView + route selection for one request, CPU ns. */
  readonly matchNs: number;
}

const pad = (n: number): string => String(n).padStart(5, '0');

function header(): string {
  return `apiVersion: v1
kind: Namespace
metadata: { name: scale, labels: { istio.io/use-waypoint: waypoint } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: waypoint, namespace: scale, labels: { istio.io/waypoint-for: service } }
spec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }
`;
}

function service(name: string, vip: string): string {
  return `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: scale }
spec: { clusterIP: "${vip}", ports: [{ name: http, port: 8080 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-1, namespace: scale, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: http, port: 8080 }]
endpoints: [{ addresses: ["127.0.0.1"] }]
`;
}

/** One HTTPRoute with RULES_PER_ROUTE rules `PathPrefix /rNNNNN/` + a header match, numbered from `first`. */
function route(name: string, parent: string, first: number): string {
  const rules: string[] = [];
  for (let i = first; i < first + RULES_PER_ROUTE; i++) {
    rules.push(`  - matches: [{ path: { type: PathPrefix, value: /r${pad(i)}/ }, headers: [{ name: x-bench-route, value: waypoint }] }]
    backendRefs: [{ name: ${parent}, port: 8080 }]`);
  }
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: scale }
spec:
  parentRefs: [{ group: "", kind: Service, name: ${parent}, port: 8080 }]
  rules:
${rules.join('\n')}
`;
}

/** The config text and the path of the request to time (it matches the target's last rule). */
export function scaleConfig(layout: Layout, rules: number): { readonly yaml: string; readonly path: string } {
  const parts = [header(), service('target', TARGET_VIP)];
  if (layout === 'same-service') {
    for (let r = 0; r < rules / RULES_PER_ROUTE; r++) parts.push(route(`target-${pad(r)}`, 'target', r * RULES_PER_ROUTE));
    return { yaml: parts.join(''), path: `/r${pad(rules - 1)}/echo` };
  }
  parts.push(route('target-00000', 'target', 0));
  for (let s = 1; s < rules / RULES_PER_ROUTE; s++) {
    const name = `svc-${pad(s)}`;
    parts.push(service(name, `127.92.${Math.floor(s / 250)}.${(s % 250) + 1}`), route(name, name, s * RULES_PER_ROUTE));
  }
  return { yaml: parts.join(''), path: `/r${pad(RULES_PER_ROUTE - 1)}/echo` };
}

const cpuMs = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};
const gc = (globalThis as { gc?: () => void }).gc;

function heapMiB(): number {
  if (gc === undefined) return Number.NaN;
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1048576;
}

/** One route selection for the point's request, as the proxy makes it; throws if nothing matches. */
function matchProbe(snapshot: Snapshot, path: string): () => boolean {
  const headers = { host: `target.scale.svc.cluster.local:8080`, 'x-bench-route': 'waypoint', accept: '*/*', 'user-agent': 'bench' };
  const key = `${TARGET_VIP}:8080`;
  const once = (): boolean => {
    const listener = snapshot.listeners.get(key);
    const routing = listener?.servicePort.http;
    if (routing?.kind !== 'routes') throw new Error('target Service has no routes');
    return selectRoute(routing, new RequestView('GET', path, headers), undefined) !== undefined;
  };
  if (!once()) throw new Error(`no rule matched ${path}`);
  return once;
}

/**
 * CPU ns per selection for each probe. Every probe warms up for ~300 ms (the JIT needs it: early batches can
 * be 10x slower), then the probes take turns, batch by batch, for five rounds; each keeps its cheapest batch.
 * Taking turns matters: the JIT's state drifts within a process (a batch measured later can run at half the
 * speed of one measured earlier), and the figure that counts is the ratio between points.
 */
function matchCosts(probes: ReadonlyArray<() => boolean>): number[] {
  const iterations = probes.map((once) => {
    const warmUntil = performance.now() + 300;
    let warm = 0;
    while (performance.now() < warmUntil) {
      for (let i = 0; i < 100; i++) once();
      warm += 100;
    }
    return Math.max(100, Math.round(warm / 6));
  });
  const best = probes.map(() => Number.POSITIVE_INFINITY);
  for (let round = 0; round < 5; round++) {
    probes.forEach((once, k) => {
      const n = iterations[k] as number;
      const c0 = process.cpuUsage();
      for (let i = 0; i < n; i++) once();
      best[k] = Math.min(best[k] as number, (cpuMs(c0) * 1e6) / n);
    });
  }
  return best;
}

/** Parse, compile and memory of one point; its match cost is measured with the others (matchCosts). */
export function measurePoint(layout: Layout, rules: number): { readonly point: Omit<ScalePoint, 'matchNs'>; readonly probe: () => boolean } {
  const { yaml, path } = scaleConfig(layout, rules);
  const before = heapMiB();
  const c0 = process.cpuUsage();
  const parsed = parseConfigText(yaml, 'scale.yaml', 0);
  const parseMs = cpuMs(c0);
  if (parsed.diagnostics.length > 0) throw new Error(`scale config does not parse: ${parsed.diagnostics[0]?.message}`);
  const c1 = process.cpuUsage();
  const result = compile(parsed.resources, { waypoint: undefined, clusterDomain: 'cluster.local', version: 1 });
  const compileMs = cpuMs(c1);
  if (!result.ok) throw new Error(`scale config did not compile: ${result.diagnostics.find((d) => d.severity === 'error')?.message}`);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`scale config has errors: ${errors[0]?.message}`);
  const snapshot = result.snapshot;
  parsed.resources.length = 0; // only the snapshot stays alive for the memory reading
  const snapshotMiB = heapMiB() - before;
  return { point: { layout, rules, parseMs, compileMs, snapshotMiB }, probe: matchProbe(snapshot, path) };
}

export const SCALE_RULES: ReadonlyArray<number> = [10, 1000, 10000];

function main(): void {
  const json = process.argv.includes('--json');
  const sizes = process.argv.includes('--quick') ? SCALE_RULES.filter((n) => n <= 1000) : SCALE_RULES;
  const measured: Array<ReturnType<typeof measurePoint>> = [];
  for (const layout of ['other-services', 'same-service'] as const) for (const n of sizes) measured.push(measurePoint(layout, n));
  const costs = matchCosts(measured.map((m) => m.probe));
  const points: ScalePoint[] = measured.map((m, k) => ({ ...m.point, matchNs: costs[k] as number }));
  if (json) {
    process.stdout.write(`${JSON.stringify(points)}\n`);
    return;
  }
  console.log('| layout | rules | parse ms | validate + compile ms | total ms | snapshot MiB | match ns/request |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const p of points) console.log(`| ${p.layout} | ${p.rules} | ${p.parseMs.toFixed(0)} | ${p.compileMs.toFixed(0)} | ${(p.parseMs + p.compileMs).toFixed(0)} | ${p.snapshotMiB.toFixed(1)} | ${p.matchNs.toFixed(0)} |`);
}

if (process.argv[1]?.endsWith('route-scale.js') === true) main();
