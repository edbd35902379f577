// Benchmark: AuthorizationPolicy compile time, retained memory and per-request evaluation cost with 10, 100
// and 1,000 policies on one Service (half DENY, half ALLOW, each with principals, paths, methods and a
// header condition, and a second rule with ipBlocks, ports and hosts). The request matches no DENY and only
// the last ALLOW rule. Side by side in one run: the indexed engine (what the waypoint runs), the same
// rules scanned without the index, and a set no index key applies to (principal and path suffixes,
// notMethods, no ports: every rule is evaluated), each with its ratio to the 10-policy case.
// Times are CPU time of this process (process.cpuUsage), so other load on the machine does not count.
// Run: npm run build && node dist/bench/authz-eval.js
import v8 from 'node:v8';
import vm from 'node:vm';
import { compilePolicy } from '../src/security/authz/compiled-policy.js';
import { RbacEngine } from '../src/security/authz/rbac-engine.js';
import { policiesFrom, policyYaml, requestInput } from '../src/security/authz/test-support.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

type Shape = 'indexable' | 'unindexable';

function policySet(n: number, shape: Shape): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const deny = i % 2 === 0;
    // `indexable`: exact-ish keys the index files rules by (principal `<td>/ns/<ns>/`, first path segment,
    // port). `unindexable`: suffixes and negations only, so every rule is evaluated for every request.
    const from = shape === 'indexable' ? `principals: ["cluster.local/ns/team${i}/sa/*"]` : `principals: ["*/sa/app${i}"]`;
    const to = shape === 'indexable'
      ? `methods: ["${deny ? 'DELETE' : 'GET'}", "POST"], paths: ["/svc${i}/*", "/v${i}/{*}/items"]`
      : `notMethods: ["${deny ? 'GET' : 'PUT'}"], paths: ["*/svc${i}", "*.v${i}"]`;
    const l4 = shape === 'indexable' ? `ports: ["8${i % 10}80"], ` : '';
    docs.push(policyYaml(`p${i}`, `  targetRefs: [{kind: Service, group: "", name: web}]
  action: ${deny ? 'DENY' : 'ALLOW'}
  rules:
  - from: [{source: {${from}, notNamespaces: ["blocked${i}"]}}]
    to: [{operation: {${to}}}]
    when: [{key: "request.headers[x-tenant]", values: ["tenant-${i}"]}]
  - from: [{source: {ipBlocks: ["10.${i % 250}.0.0/16"]}}]
    to: [{operation: {${l4}hosts: ["*.svc${i}.example.com"]}}]`));
  }
  const last = n - 1;
  return docs.join('---\n').replaceAll(`tenant-${last - (last % 2 === 0 ? 1 : 0)}"]`, 'bench"]');
}

interface Result {
  readonly parseMs: number;
  readonly compileMs: number;
  readonly heapKiB: number;
  readonly nsPerRequest: number;
  readonly allowed: boolean;
}

function cpuMs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

function run(n: number, shape: Shape, indexed: boolean): Result {
  const yaml = policySet(n, shape);
  const c0 = process.cpuUsage();
  const { policies } = policiesFrom(yaml);
  const parseMs = cpuMs(c0);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const c1 = process.cpuUsage();
  const engine = new RbacEngine(policies.map((p) => compilePolicy(p, ['cluster.local'])), 'http', indexed);
  const compileMs = cpuMs(c1);
  gc();
  const heapKiB = (process.memoryUsage().heapUsed - heap0) / 1024;
  const lastAllow = n % 2 === 0 ? n - 1 : n - 2;
  const input = () => requestInput({
    principal: `spiffe://cluster.local/ns/team${lastAllow}/sa/${shape === 'indexable' ? 'app' : `app${lastAllow}`}`,
    path: shape === 'indexable' ? `/svc${lastAllow}/orders?id=1` : `/orders/svc${lastAllow}?id=1`, method: 'GET',
    headers: [['x-tenant', 'bench']], remoteAddress: '192.168.1.1',
  });
  let allowed = false;
  for (let i = 0; i < 500; i++) allowed = engine.decide(input()).allowed; // warm up
  // CPU time of this process, not wall time: the machine is shared, and a descheduled process is not slower
  // code. Batches of 500 until 1 s of CPU (at most 200,000 requests), so slow variants stay short.
  let iterations = 0;
  const c2 = process.cpuUsage();
  while (iterations < 200_000 && cpuMs(c2) < 1000) {
    for (let i = 0; i < 500; i++) allowed = engine.decide(input()).allowed;
    iterations += 500;
  }
  const ns = (cpuMs(c2) * 1e6) / iterations;
  return { parseMs, compileMs, heapKiB, nsPerRequest: ns, allowed };
}

const SIZES = [10, 100, 1000];
const VARIANTS: ReadonlyArray<{ readonly name: string; readonly shape: Shape; readonly indexed: boolean }> = [
  { name: 'indexed (the waypoint)', shape: 'indexable', indexed: true },
  { name: 'same rules, no index', shape: 'indexable', indexed: false },
  { name: 'no index key applies', shape: 'unindexable', indexed: true },
];

const pad = (s: string, w: number): string => s.padStart(w);
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
console.log(`node ${process.version}; CPU time per request (includes building the request's AuthzInput, ~1-2 µs)`);
console.log('variant                    policies   YAML+validate   compile   retained heap   ns/request   ×10-policy   decision');
for (const v of VARIANTS) {
  let base = 0;
  for (const n of SIZES) {
    const r = run(n, v.shape, v.indexed);
    if (n === SIZES[0]) base = r.nsPerRequest;
    console.log(`${v.name.padEnd(26)} ${pad(String(n), 8)}   ${pad(r.parseMs.toFixed(0), 10)} ms   ${pad(r.compileMs.toFixed(1), 5)} ms   ${pad(fmt(r.heapKiB), 9)} KiB   ${pad(fmt(r.nsPerRequest), 10)}   ${pad((r.nsPerRequest / base).toFixed(1), 10)}   ${r.allowed ? 'allow' : 'deny'}`);
  }
}
