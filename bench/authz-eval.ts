// Benchmark: AuthorizationPolicy compile time and per-request evaluation cost with 10, 100 and 1,000
// policies on one Service (half DENY, half ALLOW, each with principals, paths, methods and a header
// condition). The request matches no DENY and only the last ALLOW rule: every rule is evaluated.
// Times are CPU time of this process (process.cpuUsage), so other load on the machine does not count.
// Run: npm run build && node dist/bench/authz-eval.js
import { compilePolicy } from '../src/security/authz/compiled-policy.js';
import { RbacEngine } from '../src/security/authz/rbac-engine.js';
import { policiesFrom, policyYaml, requestInput } from '../src/security/authz/test-support.js';

function policySet(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const deny = i % 2 === 0;
    docs.push(policyYaml(`p${i}`, `  targetRefs: [{kind: Service, group: "", name: web}]
  action: ${deny ? 'DENY' : 'ALLOW'}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/team${i}/sa/*"], notNamespaces: ["blocked${i}"]}}]
    to: [{operation: {methods: ["${deny ? 'DELETE' : 'GET'}", "POST"], paths: ["/svc${i}/*", "/v${i}/{*}/items"]}}]
    when: [{key: "request.headers[x-tenant]", values: ["tenant-${i}"]}]
  - from: [{source: {ipBlocks: ["10.${i % 250}.0.0/16"]}}]
    to: [{operation: {ports: ["8${i % 10}80"], hosts: ["*.svc${i}.example.com"]}}]`));
  }
  const last = n - 1;
  return docs.join('---\n').replaceAll(`tenant-${last - (last % 2 === 0 ? 1 : 0)}"]`, 'bench"]');
}

function run(n: number): { compileMs: number; nsPerRequest: number; allowed: boolean } {
  const yaml = policySet(n);
  const c0 = process.cpuUsage();
  const { policies } = policiesFrom(yaml);
  const engine = new RbacEngine(policies.map((p) => compilePolicy(p, ['cluster.local'])), 'http');
  const c1 = process.cpuUsage(c0);
  const compileMs = (c1.user + c1.system) / 1000;
  const lastAllow = n % 2 === 0 ? n - 1 : n - 2;
  const input = () => requestInput({
    principal: `spiffe://cluster.local/ns/team${lastAllow}/sa/app`, path: `/svc${lastAllow}/orders?id=1`, method: 'GET',
    headers: [['x-tenant', 'bench']], remoteAddress: '192.168.1.1',
  });
  let allowed = false;
  for (let i = 0; i < 2000; i++) allowed = engine.decide(input()).allowed; // warm up
  const iterations = n >= 1000 ? 20_000 : 200_000;
  // CPU time of this process, not wall time: the machine is shared, and a descheduled process is not slower code.
  const c2 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) allowed = engine.decide(input()).allowed;
  const c3 = process.cpuUsage(c2);
  const ns = ((c3.user + c3.system) * 1000) / iterations;
  return { compileMs, nsPerRequest: ns, allowed };
}

console.log('policies  compile (YAML + validate + compile, CPU)  evaluation per request (CPU)  decision');
for (const n of [10, 100, 1000]) {
  const r = run(n);
  console.log(`${String(n).padStart(8)}  ${r.compileMs.toFixed(1).padStart(10)} ms                  ${Math.round(r.nsPerRequest).toLocaleString('en-US').padStart(10)} ns            ${r.allowed ? 'allow' : 'deny'}`);
}
